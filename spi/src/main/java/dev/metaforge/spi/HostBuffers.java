package dev.metaforge.spi;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Which of several direct host buffers may share memory, for CPU kernels that write into an
 * operand ({@link Kernels#adamUpdateForeachInPlace}): an operand may be overwritten only where no
 * other operand of the call reads the same bytes, and two arrays can share bytes without being the
 * same object (a reshape view of a parameter handed in as a gradient, one parameter listed twice).
 *
 * <p>The JDK does not expose a direct buffer's address, but {@link ByteBuffer#alignmentOffset}
 * with a unit of 2^30 gives its low 30 bits. Two regions that overlap in memory also overlap modulo
 * 2^30, so comparing regions modulo 2^30 never misses an overlap; it may report one that is not
 * there (regions 1 GiB apart), which only costs the caller its in-place shortcut. A buffer that is
 * not direct, or a region of 2^30 bytes or more, is reported as sharing.
 */
public final class HostBuffers {
    private static final int UNIT = 1 << 30;

    private HostBuffers() {
    }

    /**
     * For each buffer, whether its region (position to limit) may overlap the region of another
     * buffer in the list (true: it may, false: it certainly does not). Empty regions, and null
     * entries (an array without memory, such as an empty one), share nothing. The same buffer
     * object listed twice shares with itself. Runs in O(n log n).
     */
    public static boolean[] sharing(List<ByteBuffer> buffers) {
        int n = buffers.size();
        boolean[] out = new boolean[n];
        // up to two intervals per buffer (a region that wraps past 2^30 is split): {start, end, owner}
        long[][] intervals = new long[2 * n][];
        int count = 0;
        for (int i = 0; i < n; i++) {
            ByteBuffer b = buffers.get(i);
            int length = b == null ? 0 : b.remaining();
            if (length == 0) {
                continue;
            }
            if (!b.isDirect() || length >= UNIT) {
                out[i] = true;
                continue;
            }
            long start = b.alignmentOffset(b.position(), UNIT);
            long end = start + length;
            if (end <= UNIT) {
                intervals[count++] = new long[] {start, end, i};
            } else {
                intervals[count++] = new long[] {start, UNIT, i};
                intervals[count++] = new long[] {0, end - UNIT, i};
            }
        }
        long[][] sorted = Arrays.copyOf(intervals, count);
        Arrays.sort(sorted, (a, b) -> Long.compare(a[0], b[0]));
        // Sorted by start: interval k meets an earlier one iff it starts before the largest earlier end,
        // and a later one iff the next start is before its own end.
        long maxEnd = Long.MIN_VALUE;
        int maxOwner = -1;
        for (int k = 0; k < count; k++) {
            long[] cur = sorted[k];
            int owner = (int) cur[2];
            if (cur[0] < maxEnd && maxOwner != owner) {
                out[owner] = true;
                out[maxOwner] = true;
            }
            if (k + 1 < count && sorted[k + 1][0] < cur[1] && (int) sorted[k + 1][2] != owner) {
                out[owner] = true;
                out[(int) sorted[k + 1][2]] = true;
            }
            if (cur[1] > maxEnd) {
                maxEnd = cur[1];
                maxOwner = owner;
            }
        }
        return out;
    }
}
