package dev.metaforge.tckselftest;

import org.junit.platform.suite.api.ConfigurationParameter;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * The kit run exactly as a backend module runs it, on the reference backend: every rule must pass
 * (a failure here fails the build), except the FLOAT64 kernel rules, which would compare the float64
 * oracle with itself and are SKIPPED with that reason ({@code TckContext#SELF_COMPARISON}); planted
 * faults in {@link BrokenBackends} show they fail on any other backend.
 */
@Suite
@SelectPackages("dev.metaforge.tck")
@ConfigurationParameter(key = "metaforge.tck.backend", value = "reference")
// The pure-Java oracle has no native memory; a short loop still checks scopes stay bounded.
@ConfigurationParameter(key = "metaforge.tck.memorySteps", value = "2000")
class ReferenceConformanceTest {
}
