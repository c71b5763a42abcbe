package dev.metaforge.spark;

import java.io.Serializable;
import java.util.Map;

/**
 * What a client sends the server: for each class it saw, the mean embedding of its examples and
 * their count (never the examples themselves).
 *
 * @param client  the client's number
 * @param means   class label to mean embedding
 * @param counts  class label to number of examples
 * @param backend the backend that embedded them
 * @param host    where
 */
record ClientPrototypes(int client, Map<Integer, double[]> means, Map<Integer, Integer> counts, String backend, String host)
        implements Serializable {
}
