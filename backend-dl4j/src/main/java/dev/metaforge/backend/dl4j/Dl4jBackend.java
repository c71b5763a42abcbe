package dev.metaforge.backend.dl4j;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.CpuGemmChoice;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.UnsupportedCapabilityException;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The dl4j backend: eager ND4J kernels on the CPU. ND4J is used for kernels only; gradients come
 * from Metaforge's own autodiff (SameDiff's autograd is not used: it has no second order).
 *
 * <p>Arrays created here belong to their callers, who close them; closing the backend frees
 * nothing they still hold.
 *
 * <p>Options of {@link BackendConfig}: {@code gemm} ({@code auto}, {@code onednn} or {@code openblas}; default the
 * system property {@code metaforge.dl4j.gemm}, else {@code auto}) chooses who computes float32 matrix products:
 * oneDNN, whose AVX-512 kernels OpenBLAS 0.3.19 does not run on AMD CPUs of family 0x1A, or OpenBLAS (the rule is
 * {@link CpuGemmChoice}'s, with ND4J's BLAS thread count as OpenBLAS's).
 */
public final class Dl4jBackend implements Backend {
    /** The name used with {@code -Dmetaforge.backend}. */
    public static final String NAME = "dl4j";

    /** The ND4J release this module is built and tested against. */
    static final String ND4J_VERSION = "1.0.0-M2.1";

    static final List<Device> DEVICES = List.of(Device.CPU);

    private static final Set<Capability> CAPABILITIES = Set.copyOf(EnumSet.of(
            Capability.FLOAT32, Capability.FLOAT64, Capability.INT64, Capability.CONVOLUTION,
            Capability.FUSED_LINEAR, Capability.FUSED_ADAM));

    private final String version;
    private final Device device;
    private final Dl4jKernels kernels;
    private final String gemm;

    Dl4jBackend(String version, BackendConfig config) {
        this.version = requireNonNull(version, "version is null");
        requireNonNull(config, "config is null");
        Device d = config.device();
        if (d.isGpu()) {
            throw new UnsupportedCapabilityException(NAME, "create on " + d, Capability.GPU);
        }
        if (!DEVICES.contains(d)) {
            throw new IllegalArgumentException("dl4j computes on " + DEVICES + " only, not on " + d);
        }
        this.device = d;
        CpuGemmChoice.Choice choice = OneDnnGemm.choose(config.options(), Nd4j.factory().blas().getMaxThreads());
        this.gemm = choice.description();
        this.kernels = new Dl4jKernels(d, choice);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public List<Device> devices() {
        return DEVICES;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public Set<Capability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public Kernels kernels() {
        return kernels;
    }

    /** Who computes this backend's float32 matrix products, and why ({@link CpuGemmChoice.Choice#description()}). */
    public String gemm() {
        return gemm;
    }

    /** Nothing to free: every array belongs to whoever received it. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return NAME + " (" + version + ") on " + device + ", float32 GEMM: " + gemm;
    }
}
