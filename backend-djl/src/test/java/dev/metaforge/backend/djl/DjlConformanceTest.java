package dev.metaforge.backend.djl;

import org.junit.platform.suite.api.ConfigurationParameter;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * The whole conformance kit on this backend with libtorch computing every product ({@code gemm=libtorch});
 * {@link DjlOneDnnConformanceTest} runs it with oneDNN's float32 GEMM.
 */
@Suite
@SelectPackages("dev.metaforge.tck")
@ConfigurationParameter(key = "metaforge.tck.backend", value = "djl")
@ConfigurationParameter(key = "metaforge.tck.options", value = "gemm=libtorch")
class DjlConformanceTest {
}
