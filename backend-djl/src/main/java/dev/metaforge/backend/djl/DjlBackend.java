package dev.metaforge.backend.djl;

import static java.util.Objects.requireNonNull;

import ai.djl.engine.Engine;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.CpuGemmChoice;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.UnsupportedCapabilityException;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * PyTorch kernels through DJL, on the CPU (or a CUDA device when the loaded libtorch has CUDA).
 * DJL is used for kernels only; gradients are the API's own.
 *
 * <p>Every array of this backend is attached to one DJL {@code NDManager} owned by this instance
 * (DJL attaches each result to its first operand's manager, and every operand is ours). Closing an
 * array frees it at once; closing the backend frees whatever is still open.
 *
 * <p>Options of {@link BackendConfig}: {@code threads} sets PyTorch's intra-op thread count, which
 * is process-wide; {@code gemm} ({@code auto}, {@code onednn} or {@code libtorch}; default the system
 * property {@code metaforge.djl.gemm}, else {@code auto}) chooses who computes float32 matrix products on
 * the CPU: oneDNN, whose AVX-512 kernels libtorch's oneMKL does not run on AMD CPUs, or libtorch (the
 * rule is on {@link #gemm()}).
 */
public final class DjlBackend implements Backend {
    /** The backend name. */
    public static final String NAME = "djl";

    private final String version;
    private final List<Device> devices;
    private final Device device;
    private final Set<Capability> capabilities;
    private final PtNDManager manager;
    private final PtNDManager constants;
    private final DjlKernels kernels;
    private final String gemm;
    private final AtomicBoolean closed = new AtomicBoolean();

    DjlBackend(Engine engine, BackendConfig config) {
        requireNonNull(engine, "engine is null");
        requireNonNull(config, "config is null");
        this.version = PyTorchRuntime.version(engine);
        this.devices = PyTorchRuntime.devices(engine);
        this.device = config.device();
        if (!devices.contains(device)) {
            if (device.isGpu()) {
                throw new UnsupportedCapabilityException(NAME, "computing on " + device + " (this libtorch sees devices "
                        + devices + ")", Capability.GPU);
            }
            throw new IllegalArgumentException("djl: no device " + device + "; available: " + devices);
        }
        String threads = config.options().get("threads");
        if (threads != null) {
            int n = Integer.parseInt(threads.trim());
            if (n < 1) {
                throw new IllegalArgumentException("djl: option threads must be >= 1, got " + threads);
            }
            JniUtils.setNumThreads(n);
        }
        CpuGemmChoice.Choice gemmChoice = OneDnnGemm.choose(config.options(), JniUtils.getNumThreads(), !device.isGpu());
        this.gemm = gemmChoice.description();
        ai.djl.Device djlDevice = device.isGpu() ? ai.djl.Device.gpu(device.index()) : ai.djl.Device.cpu();
        this.manager = (PtNDManager) engine.newBaseManager(djlDevice);
        this.constants = (PtNDManager) engine.newBaseManager(djlDevice);
        EnumSet<Capability> caps = EnumSet.of(Capability.FLOAT32, Capability.FLOAT64, Capability.INT64,
                Capability.CONVOLUTION, Capability.FUSED_LINEAR, Capability.FUSED_ADAM);
        if (device.isGpu()) {
            caps.add(Capability.GPU);
        }
        this.capabilities = Collections.unmodifiableSet(caps);
        this.kernels = new DjlKernels(manager, djlDevice, device, new ScalarCache(constants, djlDevice),
                gemmChoice);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** For example "djl 0.36.0 / pytorch 2.7.1". */
    @Override
    public String version() {
        return version;
    }

    @Override
    public List<Device> devices() {
        return devices;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    @Override
    public Kernels kernels() {
        return kernels;
    }

    /**
     * Who computes this backend's float32 matrix products on the CPU, and why: for example "oneDNN 2.5.2 (ISA 0xe7,
     * 1 thread)" or "libtorch (auto: oneDNN would run 2 threads and libtorch runs 1; set OMP_NUM_THREADS=1 ...)".
     * The rule is {@link CpuGemmChoice}'s: under {@code gemm=auto} oneDNN computes them when the device is the
     * CPU, oneDNN's natives load, it runs AVX-512 code, and its OpenMP thread count ({@code OMP_NUM_THREADS},
     * else the processor count) equals libtorch's, and then takes products of 2^15 multiply-adds or more; under
     * {@code gemm=onednn} it takes every product it can. Batched products (b of rank > 2) and float64 stay with
     * libtorch.
     */
    public String gemm() {
        return gemm;
    }

    /** Number of this backend's arrays not yet closed (tests and leak hunting; walks the manager). */
    public int openArrayCount() {
        return manager.getManagedArrays().size();
    }

    /** Frees every array of this backend that is still open. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                manager.close();
            } finally {
                constants.close();
            }
        }
    }

    @Override
    public String toString() {
        return NAME + " (" + version + ") on " + device + ", float32 GEMM: " + gemm;
    }
}
