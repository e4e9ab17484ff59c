package dev.dmp.agent.link;

/** The agent's version, from the jar's manifest when packaged. */
final class AgentVersion {
    private AgentVersion() {}

    static String get() {
        String v = AgentVersion.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
