package dev.metaforge.backend.dl4j;

import org.junit.platform.suite.api.ConfigurationParameter;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * The whole conformance kit on this backend with OpenBLAS computing every product ({@code gemm=openblas});
 * {@link Dl4jOneDnnConformanceTest} runs it with oneDNN's float32 GEMM.
 */
@Suite
@SelectPackages("dev.metaforge.tck")
@ConfigurationParameter(key = "metaforge.tck.backend", value = "dl4j")
@ConfigurationParameter(key = "metaforge.tck.options", value = "gemm=openblas")
class Dl4jConformanceTest {
}
