package dev.metaforge.plugins.hyper.ghn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DecoderSizeTest {
    @Test
    void countsMatchHandCountedLayers() {
        // embed 32 -> hidden 64 -> 64x64x3x3 = 36864 outputs: 32*64+64 + 64*36864+36864 (counted by hand).
        DecoderSize d = new DecoderSize(32, 64, 64, 64, 3);
        assertEquals(2048 + 64 + 2359296 + 36864, d.full());
        // rank 4: A 64x4 + B 576x4 = 2560 outputs: 2112 + 64*2560 + 2560.
        assertEquals(2112 + 163840 + 2560, d.lowRank(4));
        assertTrue(d.lowRank(4) * 10 < d.full(), "LoGAH must be far smaller for wide layers");
    }

    @Test
    void badSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new DecoderSize(0, 1, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new DecoderSize(1, 1, 1, 1, 1).lowRank(0));
    }
}
