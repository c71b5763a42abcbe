package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.RouterSpec;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code {"type": "read-me", "width": 32, "layers": 2, "experts": 8, "expert": {"type": "mlp", "sizes": [32, 64, 32]},
 * "router": {"type": "topk", "k": 2}, "pregateWidth": 16}}: a residual stack of MoE blocks routed ahead of time by
 * a pre-gating network that reads only the stack's input ({@link ReadMe}).
 *
 * @param width        d
 * @param layers       L
 * @param experts      E per layer
 * @param expert       one expert d → d
 * @param router       each layer's gate, reading the pre-gate's features (default topk)
 * @param pregateWidth r, the pre-gating trunk's width (default: width)
 * @param blockSize    dropless block size (default 0: automatic)
 */
public record ReadMeSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "token width") int width,
        @Range(min = 1, max = 4096, what = "MoE layers") int layers,
        @Range(min = 1, max = 4096, what = "experts") int experts,
        ModuleSpec expert,
        RouterSpec router,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "pre-gate width") int pregateWidth,
        @Range(min = 0, max = Limits.MAX_WIDTH, what = "block size (0: automatic)") int blockSize)
        implements ModuleSpec {
    public ReadMeSpec {
        Fields.positive(width, "width");
        Fields.positive(layers, "layers");
        Fields.positive(experts, "experts");
        Fields.required(expert, "expert", "one expert mapping width to width, e.g. an mlp");
        Fields.required(router, "router", "e.g. {\"type\": \"topk\", \"k\": 2}");
        Fields.positive(pregateWidth, "pregateWidth");
        layer(width, layers, experts, expert, router, pregateWidth, blockSize);
    }

    @JsonCreator
    static ReadMeSpec fromJson(@JsonProperty("width") Integer width, @JsonProperty("layers") Integer layers,
                               @JsonProperty("experts") Integer experts, @JsonProperty("expert") ModuleSpec expert,
                               @JsonProperty("router") RouterSpec router, @JsonProperty("pregateWidth") Integer pregateWidth,
                               @JsonProperty("blockSize") Integer blockSize) {
        int w = Fields.required(width, "width", "the stack's width d");
        return new ReadMeSpec(w, Fields.required(layers, "layers", "the number of MoE blocks"),
                Fields.required(experts, "experts", "experts per layer"), expert,
                Fields.orDefault(router, TopKRouterSpec.fromJson(null, null, null, null, null)), Fields.orDefault(pregateWidth, w),
                Fields.orDefault(blockSize, 0));
    }

    @Override
    public Module build() {
        return layer(width, layers, experts, expert, router, pregateWidth, blockSize);
    }

    private static ReadMe layer(int width, int layers, int experts, ModuleSpec expert, RouterSpec router, int pregateWidth,
                                int blockSize) {
        List<Router> routers = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            try {
                routers.add(router.build(pregateWidth, experts));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("field 'router': " + e.getMessage(), e);
            }
        }
        return new ReadMe(width, ReadMe.trunk(width, pregateWidth), routers, experts, expert.build(), blockSize);
    }
}
