package dev.metaforge.spark;

import java.io.Serializable;
import java.util.Map;

/**
 * What an executor sends back for one shard of one step: its loss value and named parts, its
 * summed gradient as safetensors bytes, and where and how long it ran.
 *
 * @param shard         the shard's index
 * @param loss          the shard's loss value
 * @param parts         named loss parts (summed over shards by the driver)
 * @param metrics       named statistics (averaged over shards, weighted by units)
 * @param gradient      the shard's gradient, safetensors bytes
 * @param backend       the backend that computed it
 * @param host          the executor's host
 * @param computeNanos  time spent in the objective and its gradient
 */
record ShardResult(int shard, double loss, Map<String, Double> parts, Map<String, Double> metrics, byte[] gradient,
                   String backend, String host, long computeNanos) implements Serializable {
}
