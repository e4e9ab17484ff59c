package dev.dmp.agent;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The agent's shape, kept by rules rather than by review (README.md and the {@link Agent} Javadoc draw
 * it): no package cycles; the composition root is used by nobody; and the request path is layered, the
 * wire format at the bottom, then the backends, then the NBD server, which knows the counters only
 * through its {@link dev.dmp.agent.nbd.RequestObserver} seam.
 */
class ArchitectureTest {
    private static final String AGENT = "dev.dmp.agent";
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(AGENT);

    @Test
    void packagesAreFreeOfCycles() {
        slices().matching(AGENT + ".(*)..").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void noPartUsesTheCompositionRoot() {
        noClasses()
                .that()
                .resideOutsideOfPackage(AGENT)
                .should()
                .dependOnClassesThat()
                .resideInAPackage(AGENT)
                .because("the parts get what they use from the root, never the root itself")
                .check(CLASSES);
    }

    @Test
    void theWireFormatDependsOnNothingOfTheAgent() {
        noClasses()
                .that()
                .resideInAPackage(AGENT + ".protocol..")
                .should()
                .dependOnClassesThat()
                .resideOutsideOfPackages(AGENT + ".protocol..", "java..", "org.jboss.logging..")
                .check(CLASSES);
    }

    @Test
    void backendsKnowOnlyTheWireFormat() {
        noClasses()
                .that()
                .resideInAPackage(AGENT + ".backend..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        AGENT + ".nbd..",
                        AGENT + ".stats..",
                        AGENT + ".volume..",
                        AGENT + ".kernel..",
                        AGENT + ".host..",
                        AGENT + ".link..")
                .check(CLASSES);
    }

    @Test
    void theNbdServerKnowsTheCountersOnlyThroughItsObserverSeam() {
        noClasses()
                .that()
                .resideInAPackage(AGENT + ".nbd..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        AGENT + ".stats..",
                        AGENT + ".volume..",
                        AGENT + ".kernel..",
                        AGENT + ".host..",
                        AGENT + ".link..",
                        "dev.dmp.proto..")
                .check(CLASSES);
    }
}
