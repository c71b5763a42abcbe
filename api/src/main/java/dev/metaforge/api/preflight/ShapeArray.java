package dev.metaforge.api.preflight;

import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;

/** An array of the shape-only backend: a shape and a dtype, no values; closing it returns its bytes to the meter. */
final class ShapeArray implements NativeArray {
    private final Shape shape;
    private final DType dtype;
    private final MemoryMeter meter;
    private final long charged;
    private boolean closed;

    ShapeArray(Shape shape, DType dtype, MemoryMeter meter, long charged) {
        this.shape = shape;
        this.dtype = dtype;
        this.meter = meter;
        this.charged = charged;
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            meter.free(charged);
        }
    }

    @Override
    public String toString() {
        return "ShapeArray" + shape + " " + dtype;
    }
}
