/**
 * The Metaforge conformance kit (TCK): JUnit 5 rules that prove a backend computes what the
 * float64 reference computes, fails cleanly where it lacks a capability, and repeats itself.
 *
 * <h2>Running the kit from a backend module</h2>
 * Depend on {@code dev.metaforge:metaforge-tck} (test scope) and add one class to
 * {@code src/test/java}:
 * <pre>{@code
 * @Suite
 * @SelectPackages("dev.metaforge.tck")
 * @ConfigurationParameter(key = "metaforge.tck.backend", value = "djl")
 * class DjlConformanceTest {}
 * }</pre>
 * {@code mvn test} then runs every rule and writes {@code target/tck-report/conformance.json} and
 * {@code conformance.md} ({@link dev.metaforge.tck.ConformanceReportListener}). Outside Maven:
 * {@code metaforge tck --backend djl}, or {@link dev.metaforge.tck.TckRunner}.
 *
 * <h2>Adding rules</h2>
 * A rule class lives in this package (or below), is named {@code *ConformanceTests} (the suite
 * engine's default class-name filter only includes names ending in {@code Test} or {@code Tests}),
 * carries {@code @ExtendWith(TckExtension.class)}, and has one method per rule:
 * <pre>{@code
 * @ExtendWith(TckExtension.class)
 * class AutodiffConformanceTests {
 *     @TckRule(id = "AUTODIFF-VJP-1")
 *     @DisplayName("AUTODIFF-VJP-1 every primitive's VJP matches central finite differences")
 *     @TestFactory
 *     Stream<DynamicTest> vjp(TckContext tck) { ... }
 * }
 * }</pre>
 * {@link dev.metaforge.tck.TckContext} gives the backend under test, the reference backend and the
 * comparison helpers ({@link dev.metaforge.tck.TckContext#agree}, {@link dev.metaforge.tck.Compare},
 * {@link dev.metaforge.tck.Tolerance}). A rule needing a capability names it in
 * {@link dev.metaforge.tck.TckRule#capability()} and is reported UNSUPPORTED (after checking the
 * clean failure) on backends without it. Table-driven rules return dynamic tests, one per case;
 * the report aggregates them into one status per rule id. The kit's own tests must live outside
 * this package, or the suite would run them too.
 *
 * <h2>Rule families</h2>
 * BACKEND-* (self-description), KERNEL-* (every {@link dev.metaforge.spi.Kernels} method against the
 * reference, edge cases and errors), FUSED-* (fused kernels equal their composed defaults),
 * COMPOSED-* (kernels the SPI added as default methods equal those defaults where a backend
 * overrides them),
 * DETERMINISM-* (seeded repeatability), CAPABILITY-* (undeclared capabilities fail cleanly).
 * AUTODIFF-*, MEMORY-*, MODEL-* and CROSS-* rules come with the API. MODEL-FAMILY-1 (FLOAT32 loss and
 * gradient against the float64 reference), MODEL-FAMILY-2 (FLOAT64 gradient against finite differences,
 * {@link dev.metaforge.tck.GradientCheck}), MODEL-FAMILY-3 (same seed, bit-identical build, loss and
 * gradient), MODEL-FAMILY-4 (spec round trip through the registry) and MODEL-HOST-1 run on every
 * component example a plugin declares ({@link dev.metaforge.api.plugin.MetaforgePlugin#conformanceExamples()},
 * collected by {@link dev.metaforge.tck.ComponentExamples}; built-in and third-party plugins alike),
 * narrowed by the configuration parameter {@code metaforge.tck.components}. GRAPH-* (the parameter graph:
 * round trip, features, permutation, gradients through it) and METANET-* (neuron-permutation symmetry,
 * the harness's own sensitivity, every built-in metanetwork's invariance, equivariance and agreement
 * with the reference, Net2Net) are in {@code MetanetConformanceTests}.
 */
package dev.metaforge.tck;
