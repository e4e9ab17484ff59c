package dev.dmp.agent.link;

import dev.dmp.proto.v1.AgentLinkGrpc;
import dev.dmp.proto.v1.AgentMessage;
import dev.dmp.proto.v1.ControllerMessage;
import dev.dmp.proto.v1.Hello;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A controller's AgentLink over real gRPC on loopback, as little of it as a dialling agent needs: it
 * keeps every stream open and hands the test each Hello it receives. Closing it drops the streams, as
 * a controller that dies does.
 */
final class FakeController implements AutoCloseable {
    /** The Hellos received (the first message of each stream), in order. */
    final BlockingQueue<Hello> hellos = new LinkedBlockingQueue<>();

    private final Server server;

    private FakeController() throws IOException {
        this.server = NettyServerBuilder.forAddress(
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), InsecureServerCredentials.create())
                .addService(new AgentLinkGrpc.AgentLinkImplBase() {
                    @Override
                    public StreamObserver<AgentMessage> connect(StreamObserver<ControllerMessage> toAgent) {
                        return new StreamObserver<>() {
                            @Override
                            public void onNext(AgentMessage message) {
                                if (message.hasHello()) {
                                    hellos.add(message.getHello());
                                }
                            }

                            @Override
                            public void onError(Throwable t) {}

                            @Override
                            public void onCompleted() {
                                toAgent.onCompleted();
                            }
                        };
                    }
                })
                .build()
                .start();
    }

    static FakeController start() throws IOException {
        return new FakeController();
    }

    /** What an agent dials: {@code 127.0.0.1:PORT}. */
    String target() {
        return InetAddress.getLoopbackAddress().getHostAddress() + ":" + server.getPort();
    }

    /** Gone at once, its streams broken, as after a kill -9. */
    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }
}
