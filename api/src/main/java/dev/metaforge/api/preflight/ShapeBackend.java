package dev.metaforge.api.preflight;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.Backend;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A backend that computes shapes and dtypes and nothing else: every kernel checks its arguments as
 * a real backend does and returns an array with the right shape and dtype but no values (values
 * read back are zeros). Running a training step on it surfaces every shape error a real step
 * would hit and measures, through its {@link MemoryMeter}, what the step would allocate, without
 * allocating it. The pre-flight check ({@link Preflight}) runs specs on it before a run starts.
 *
 * <pre>{@code
 * try (ShapeBackend shapes = ShapeBackend.mirroring(realBackend, new MemoryMeter(budget, 50_000_000))) {
 *     Engine engine = Engine.of(shapes, DType.FLOAT32);
 *     ... build and run one step ...
 *     long peak = shapes.meter().peakBytes();
 * }
 * }</pre>
 */
public final class ShapeBackend implements Backend {
    /** The name it reports, followed by the mirrored backend's in parentheses. */
    public static final String NAME = "shape-only";

    private final String mirrored;
    private final Set<Capability> capabilities;
    private final MemoryMeter meter;
    private final ShapeKernels kernels;

    private ShapeBackend(String mirrored, Set<Capability> capabilities, MemoryMeter meter) {
        this.mirrored = mirrored;
        this.capabilities = Set.copyOf(capabilities);
        this.meter = requireNonNull(meter, "meter is null");
        this.kernels = new ShapeKernels(this.capabilities, meter, backendLabel(mirrored));
    }

    /** A shape-only backend with the capabilities of {@code backend}, so that what it lacks fails here too. */
    public static ShapeBackend mirroring(Backend backend, MemoryMeter meter) {
        requireNonNull(backend, "backend is null");
        Set<Capability> caps = EnumSet.noneOf(Capability.class);
        caps.addAll(backend.capabilities());
        return new ShapeBackend(backend.name(), caps, meter);
    }

    /** A shape-only backend declaring float32, float64, int64 and convolution. */
    public static ShapeBackend of(MemoryMeter meter) {
        return new ShapeBackend(null, EnumSet.of(Capability.FLOAT32, Capability.FLOAT64, Capability.INT64,
                Capability.CONVOLUTION), meter);
    }

    private static String backendLabel(String mirrored) {
        return mirrored == null ? NAME : mirrored;
    }

    /** The meter that counts what this backend's kernels would have allocated. */
    public MemoryMeter meter() {
        return meter;
    }

    /**
     * The mirrored backend's name, so that errors read as they would on it and components that
     * branch on the backend behave the same; {@link #NAME} when nothing is mirrored.
     */
    @Override
    public String name() {
        return backendLabel(mirrored);
    }

    @Override
    public String version() {
        return NAME + " (no values, shapes and dtypes only)";
    }

    @Override
    public List<Device> devices() {
        return List.of(Device.CPU);
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    @Override
    public Kernels kernels() {
        return kernels;
    }

    @Override
    public void close() {
        // nothing was allocated
    }
}
