package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.RouterSpec;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;

/**
 * {@code {"type": "moe", "width": 64, "experts": 8, "expert": {"type": "mlp", "sizes": [64, 256, 64]},
 * "router": {"type": "topk", "k": 2, "capacityFactor": 1.25}, "shared": {...}, "blockSize": 0}}: a
 * mixture-of-experts layer ({@link MixtureOfExperts}) mapping [..., width] to [..., out].
 *
 * <p>Checked while the spec is read, so the error names the JSON path of this object: the router
 * must fit the layer (k ≤ experts, capacity factor > 0), and the expert (and shared expert) must read
 * {@code width} features.
 *
 * @param width     d, the input width the router and the experts read
 * @param experts   E, the number of routed experts
 * @param expert    one expert; the E experts are one weight batch of it
 * @param router    the router (default {@code {"type": "topk"}})
 * @param shared    an optional expert every token goes through
 * @param blockSize rows per block of the dropless dispatch (default 0: chosen from the batch)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MoeSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "token width") int width,
        @Range(min = 1, max = 4096, what = "experts") int experts,
        ModuleSpec expert,
        RouterSpec router,
        ModuleSpec shared,
        @Range(min = 0, max = Limits.MAX_WIDTH, what = "block size (0: automatic)") int blockSize)
        implements ModuleSpec {
    public MoeSpec {
        Fields.positive(width, "width");
        Fields.positive(experts, "experts");
        Fields.required(expert, "expert", "the module every expert is, e.g. {\"type\": \"mlp\", \"sizes\": [" + width + ", 256, "
                + width + "]}");
        Fields.required(router, "router", "e.g. {\"type\": \"topk\", \"k\": 2}");
        if (blockSize < 0) {
            throw new IllegalArgumentException("field 'blockSize' must be >= 0 (0: automatic), got " + blockSize);
        }
        layer(width, experts, expert, router, shared, blockSize);
    }

    @JsonCreator
    static MoeSpec fromJson(@JsonProperty("width") Integer width, @JsonProperty("experts") Integer experts,
                            @JsonProperty("expert") ModuleSpec expert, @JsonProperty("router") RouterSpec router,
                            @JsonProperty("shared") ModuleSpec shared, @JsonProperty("blockSize") Integer blockSize) {
        return new MoeSpec(Fields.required(width, "width", "the input width d the router and the experts read"),
                Fields.required(experts, "experts", "the number of routed experts E"), expert,
                Fields.orDefault(router, TopKRouterSpec.fromJson(null, null, null, null, null)), shared,
                Fields.orDefault(blockSize, 0));
    }

    @Override
    public Module build() {
        return layer(width, experts, expert, router, shared, blockSize);
    }

    /** The layer, with errors that name the field at fault. */
    static MixtureOfExperts layer(int width, int experts, ModuleSpec expertSpec, RouterSpec routerSpec, ModuleSpec sharedSpec,
                                  int blockSize) {
        Router router;
        try {
            router = routerSpec.build(width, experts);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("field 'router': " + e.getMessage(), e);
        }
        Module expert = expertSpec.build();
        int[] io = MixtureOfExperts.widths(expert);
        if (io[0] >= 0 && io[0] != width) {
            throw new IllegalArgumentException("field 'expert' reads " + io[0] + " features but field 'width' is " + width
                    + ": every expert must read the router's width");
        }
        Module shared = null;
        if (sharedSpec != null) {
            shared = sharedSpec.build();
            int[] sio = MixtureOfExperts.widths(shared);
            if (sio[0] >= 0 && sio[0] != width) {
                throw new IllegalArgumentException("field 'shared' reads " + sio[0] + " features but field 'width' is " + width);
            }
            if (sio[1] >= 0 && io[1] >= 0 && sio[1] != io[1]) {
                throw new IllegalArgumentException("field 'shared' writes " + sio[1] + " features but field 'expert' writes "
                        + io[1] + "; their outputs are added");
            }
        }
        return new MixtureOfExperts(router, expert, experts, shared, blockSize);
    }
}
