package dev.metaforge.backend.djl;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * Direct views of CPU tensors' own memory, for the kernels that run as one Java pass instead of a
 * dozen native calls (the Adam update).
 *
 * <p>DJL's {@code JniUtils.getByteBuffer(array, true)} is such a view only for a contiguous tensor;
 * for any other (a transposed or broadcast view) it silently makes a contiguous copy, attached to
 * the array's manager, so writes would be lost and the copy would live until the manager closes.
 * DJL exposes no contiguity test, but its JNI library has one ({@code torchIsContiguous}) on a
 * package-private class; we reach it by reflection once per backend. Where that fails (another DJL
 * version), {@link #view} answers null and the caller uses native operations, as it does for GPU
 * tensors.
 */
final class HostMemory {
    private final Object library;
    private final Method isContiguous;

    HostMemory() {
        Object lib = null;
        Method contiguous = null;
        try {
            Class<?> type = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary", true, JniUtils.class.getClassLoader());
            Field field = type.getDeclaredField("LIB");
            field.setAccessible(true);
            contiguous = type.getDeclaredMethod("torchIsContiguous", long.class);
            contiguous.setAccessible(true);
            lib = field.get(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            lib = null;
            contiguous = null;
        }
        this.library = lib;
        this.isContiguous = contiguous;
    }

    /** Whether {@link #view} can ever answer: false when DJL's contiguity test is out of reach. */
    boolean available() {
        return library != null;
    }

    /**
     * The memory of {@code nd} (a CPU tensor with at least one element) as a native-order buffer
     * that reads and writes the tensor itself, or null when it is not contiguous or contiguity
     * cannot be checked.
     */
    ByteBuffer view(PtNDArray nd) {
        if (library == null) {
            return null;
        }
        try {
            if (!(Boolean) isContiguous.invoke(library, (Long) nd.getHandle())) {
                return null;
            }
        } catch (ReflectiveOperationException e) {
            return null;
        }
        return JniUtils.getByteBuffer(nd, true);
    }
}
