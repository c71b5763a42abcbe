package dev.metaforge.backend.dl4j;

import org.junit.platform.suite.api.ConfigurationParameter;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * The whole conformance kit on this backend with oneDNN computing every float32 product ({@code gemm=onednn}),
 * whatever this machine's CPU; {@link Dl4jConformanceTest} runs it with OpenBLAS's.
 */
@Suite
@SelectPackages("dev.metaforge.tck")
@ConfigurationParameter(key = "metaforge.tck.backend", value = "dl4j")
@ConfigurationParameter(key = "metaforge.tck.options", value = "gemm=onednn")
class Dl4jOneDnnConformanceTest {
}
