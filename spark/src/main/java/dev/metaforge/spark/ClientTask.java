package dev.metaforge.spark;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.DType;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;

/**
 * A client of federated reconnaissance, run on an executor: embeds its own examples with the
 * broadcast embedding network (safetensors bytes) on its own backend and reports each class's
 * mean embedding and count.
 */
final class ClientTask implements Function<ClientData, ClientPrototypes> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<byte[]> params;
    private final List<Integer> sizes;
    private final String activation;
    private final String backendName;

    ClientTask(Broadcast<byte[]> params, List<Integer> sizes, String activation, String backendName) {
        this.params = requireNonNull(params, "params is null");
        this.sizes = List.copyOf(sizes);
        this.activation = requireNonNull(activation, "activation is null");
        this.backendName = backendName;
    }

    @Override
    @SuppressWarnings("try") // the scope frees the client's tensors
    public ClientPrototypes call(ClientData data) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        try (Backend backend = ExecutorWorker.openBackend(backendName, 0, loader == null ? ClientTask.class.getClassLoader() : loader);
             Scope scope = Scope.open()) {
            Engine engine = Engine.of(backend, DType.FLOAT32);
            Params p = ParamBytes.toParams(ParamBytes.decode(params.value(), "embedding parameters"), engine);
            double[][] z = FederatedReconnaissance.embed(Mlp.of(sizes, Activation.parse(activation)), p, data.features(), data.dims(), engine);
            Map<Integer, double[]> sums = new TreeMap<>();
            Map<Integer, Integer> counts = new TreeMap<>();
            for (int i = 0; i < data.size(); i++) {
                double[] sum = sums.computeIfAbsent(data.labels()[i], l -> new double[z[0].length]);
                for (int d = 0; d < sum.length; d++) {
                    sum[d] += z[i][d];
                }
                counts.merge(data.labels()[i], 1, Integer::sum);
            }
            sums.forEach((label, sum) -> {
                int n = counts.get(label);
                for (int d = 0; d < sum.length; d++) {
                    sum[d] /= n;
                }
            });
            return new ClientPrototypes(data.client(), sums, counts, backend.name(), ShardTask.host());
        }
    }
}
