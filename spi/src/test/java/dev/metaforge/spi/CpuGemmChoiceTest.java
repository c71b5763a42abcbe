package dev.metaforge.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** {@link CpuGemmChoice}'s rule with stand-ins for oneDNN's loader: each branch of the javadoc's list. */
class CpuGemmChoiceTest {
    private static final int AVX512_CORE_BF16 = 0xe7;
    private static final int AVX2 = 0x7;
    private static final int THREADS = CpuGemmChoice.openMpThreads();

    private static CpuGemmChoice.Choice choose(Map<String, String> options, boolean cpu, int nativeThreads,
                                               Supplier<CpuGemmChoice.OneDnn> oneDnn) {
        return CpuGemmChoice.choose("djl", "libtorch", options, cpu, nativeThreads, oneDnn, "org.example:dnnl");
    }

    private static Supplier<CpuGemmChoice.OneDnn> loaded(int isa) {
        return () -> CpuGemmChoice.OneDnn.loaded(isa, "2.5.2");
    }

    @Test
    void autoTakesOneDnnOnlyWithAvx512AndTheSameThreadCount() {
        CpuGemmChoice.Choice yes = choose(Map.of(), true, THREADS, loaded(AVX512_CORE_BF16));
        assertTrue(yes.oneDnn());
        assertEquals(CpuGemmChoice.AUTO_MIN_MULTIPLY_ADDS, yes.minMultiplyAdds());
        assertEquals("oneDNN 2.5.2 (ISA 0xe7, " + THREADS + (THREADS == 1 ? " thread)" : " threads)")
                + ", products of 2^15 multiply-adds or more", yes.description());

        CpuGemmChoice.Choice avx2 = choose(Map.of("gemm", "auto"), true, THREADS, loaded(AVX2));
        assertEquals(new CpuGemmChoice.Choice(false, Long.MAX_VALUE, "libtorch (auto: oneDNN has no AVX-512 code for this CPU)"), avx2);

        CpuGemmChoice.Choice threads = choose(Map.of(), true, THREADS + 1, loaded(AVX512_CORE_BF16));
        assertFalse(threads.oneDnn());
        assertTrue(threads.description().endsWith("and libtorch runs " + (THREADS + 1) + "; set OMP_NUM_THREADS="
                + (THREADS + 1) + " before the JVM starts to use oneDNN)"), threads.description());
    }

    @Test
    void autoKeepsTheNativeGemmWhenOneDnnDoesNotLoadOrTheDeviceIsAGpu() {
        UnsatisfiedLinkError root = new UnsatisfiedLinkError("no jnidnnl");
        CpuGemmChoice.Choice failed = choose(Map.of(), true, THREADS,
                () -> CpuGemmChoice.OneDnn.failed(new ExceptionInInitializerError(root)));
        assertEquals("libtorch (auto: oneDNN did not load: UnsatisfiedLinkError: no jnidnnl)", failed.description());
        AtomicInteger loads = new AtomicInteger();
        CpuGemmChoice.Choice gpu = choose(Map.of(), false, THREADS, () -> {
            loads.incrementAndGet();
            return CpuGemmChoice.OneDnn.loaded(AVX512_CORE_BF16, "2.5.2");
        });
        assertEquals("libtorch (auto: the device is a GPU)", gpu.description());
        assertEquals(0, loads.get(), "oneDNN is not loaded for a GPU backend");
    }

    @Test
    void onednnTakesEveryProductWhateverTheIsaAndThreads() {
        CpuGemmChoice.Choice forced = choose(Map.of("gemm", " OneDNN "), true, THREADS + 3, loaded(AVX2));
        assertTrue(forced.oneDnn());
        assertEquals(0, forced.minMultiplyAdds());
        assertTrue(forced.description().endsWith(", every float32 product, option gemm=onednn"), forced.description());
    }

    @Test
    void onednnThatCannotRunIsAnErrorSayingWhatToDo() {
        UnsatisfiedLinkError root = new UnsatisfiedLinkError("no jnidnnl");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> choose(Map.of("gemm", "onednn"),
                true, 1, () -> CpuGemmChoice.OneDnn.failed(root)));
        assertEquals("djl: option gemm=onednn, but oneDNN did not load (UnsatisfiedLinkError: no jnidnnl). Add"
                + " org.example:dnnl to the classpath, or set gemm to auto or libtorch.", missing.getMessage());
        assertSame(root, missing.getCause());
        IllegalArgumentException gpu = assertThrows(IllegalArgumentException.class,
                () -> choose(Map.of("gemm", "onednn"), false, 1, loaded(AVX512_CORE_BF16)));
        assertTrue(gpu.getMessage().startsWith("djl: option gemm=onednn computes on the CPU only"), gpu.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> choose(Map.of("gemm", "mkl"), true, 1, loaded(AVX512_CORE_BF16)));
        assertEquals("djl: option gemm must be auto, onednn or libtorch, got 'mkl'", unknown.getMessage());
    }

    @Test
    void theNativeModeNeverLoadsOneDnn() {
        CpuGemmChoice.Choice own = choose(Map.of("gemm", "libtorch"), true, 1, () -> {
            throw new AssertionError("loaded oneDNN for gemm=libtorch");
        });
        assertEquals(new CpuGemmChoice.Choice(false, Long.MAX_VALUE, "libtorch (option gemm=libtorch)"), own);
    }

    @Test
    void probeReportsWhatOneDnnSaysOrWhyItDidNotLoad() {
        assertEquals(CpuGemmChoice.OneDnn.loaded(AVX2, "2.5.2"), CpuGemmChoice.OneDnn.probe(() -> AVX2, () -> "2.5.2"));
        CpuGemmChoice.OneDnn failed = CpuGemmChoice.OneDnn.probe(() -> {
            throw new NoClassDefFoundError("org/bytedeco/dnnl/global/dnnl");
        }, () -> "never asked");
        assertEquals("NoClassDefFoundError: org/bytedeco/dnnl/global/dnnl", failed.failure());
        assertEquals(0, failed.isa());
    }

    @Test
    void aChoiceWithoutOneDnnTakesNoProduct() {
        // the kernels read only minMultiplyAdds, so a native choice must not let a product through
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CpuGemmChoice.Choice(false, 0, "libtorch"));
        assertEquals("a choice without oneDNN takes no product: minMultiplyAdds must be Long.MAX_VALUE, got 0", e.getMessage());
    }
}
