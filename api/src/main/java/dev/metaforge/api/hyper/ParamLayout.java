package dev.metaforge.api.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a flat vector of generated scalars maps onto named parameters: each spec takes the next
 * {@code shape.size()} entries, row-major. Hypernetworks that emit one flat output per network use
 * it to split that output; regularizers use it to flatten generated parameters back.
 *
 * <pre>{@code
 * ParamLayout layout = new ParamLayout(target.generated());
 * Params weights = layout.split(flat);       // flat [B, P] -> each [B, ...shape]; flat [P] -> each [...shape]
 * }</pre>
 *
 * @param specs the parameters, in order
 */
public record ParamLayout(List<ParamSpec> specs) {
    public ParamLayout {
        specs = List.copyOf(requireNonNull(specs, "specs is null"));
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("a parameter layout needs at least one parameter");
        }
        long total = 0;
        for (ParamSpec s : specs) {
            total += s.shape().size();
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a parameter layout of " + total + " scalars is more than one flat axis holds");
        }
    }

    /** Total scalars P. */
    public int size() {
        long n = 0;
        for (ParamSpec s : specs) {
            n += s.shape().size();
        }
        return (int) n;
    }

    /** Splits {@code flat} [B, P] (or [P]) into each parameter's shape with the same leading axis. */
    public Params split(Tensor flat) {
        requireNonNull(flat, "flat is null");
        int p = size();
        if (!(flat.rank() == 1 || flat.rank() == 2) || flat.dim(-1) != p) {
            throw new IllegalArgumentException("ParamLayout.split: expected [" + p + "] or [B, " + p + "] for parameters "
                    + names() + ", got " + flat.shape());
        }
        return parts(flat);
    }

    /**
     * {@link #split} of the first P entries of the last axis of {@code flat} ([L] or [B, L] with L >= P); the
     * rest is not used (the unused tail of a chunked generator's last chunk). Each parameter is one slice of
     * {@code flat}: no slice of the first P entries is made first, so the backward pass joins the parameters'
     * cotangents and the zeros of the tail in one concat.
     */
    public Params splitLeading(Tensor flat) {
        requireNonNull(flat, "flat is null");
        int p = size();
        if (!(flat.rank() == 1 || flat.rank() == 2) || flat.dim(-1) < p) {
            throw new IllegalArgumentException("ParamLayout.splitLeading: expected [L] or [B, L] with L >= " + p
                    + " for parameters " + names() + ", got " + flat.shape());
        }
        return parts(flat);
    }

    private Params parts(Tensor flat) {
        boolean batched = flat.rank() == 2;
        boolean whole = specs.size() == 1 && flat.dim(-1) == size();
        Map<String, Tensor> out = new LinkedHashMap<>();
        int offset = 0;
        for (ParamSpec s : specs) {
            int n = (int) s.shape().size();
            Tensor part = whole ? flat : flat.slice(-1, offset, offset + n);
            int[] dims = s.shape().dims();
            if (batched) {
                int[] withBatch = new int[dims.length + 1];
                withBatch[0] = flat.dim(0);
                System.arraycopy(dims, 0, withBatch, 1, dims.length);
                dims = withBatch;
            }
            out.put(s.name(), part.reshape(dims));
            offset += n;
        }
        return Params.of(out);
    }

    /** The inverse of {@link #split}: [B, P] when {@code batch > 0}, else [P]. */
    public Tensor flatten(Params params, int batch) {
        requireNonNull(params, "params is null");
        List<Tensor> parts = new ArrayList<>(specs.size());
        for (ParamSpec s : specs) {
            Tensor t = params.get(s.name());
            parts.add(batch > 0 ? t.reshape(batch, (int) s.shape().size()) : t.reshape((int) s.shape().size()));
        }
        return parts.size() == 1 ? parts.get(0) : Tensor.concat(parts, -1);
    }

    private List<String> names() {
        List<String> out = new ArrayList<>();
        for (ParamSpec s : specs) {
            out.add(s.name());
        }
        return out;
    }
}
