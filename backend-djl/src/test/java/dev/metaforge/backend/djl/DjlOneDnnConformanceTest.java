package dev.metaforge.backend.djl;

import org.junit.platform.suite.api.ConfigurationParameter;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * The whole conformance kit on this backend with oneDNN computing its float32 products ({@code gemm=onednn}),
 * whatever this machine's CPU; {@link DjlConformanceTest} runs it with libtorch's.
 */
@Suite
@SelectPackages("dev.metaforge.tck")
@ConfigurationParameter(key = "metaforge.tck.backend", value = "djl")
@ConfigurationParameter(key = "metaforge.tck.options", value = "gemm=onednn")
class DjlOneDnnConformanceTest {
}
