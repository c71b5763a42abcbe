package dev.metaforge.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaforge.api.random.RandomStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Federated reconnaissance: count-weighted merging is the mean of all examples (against a plain
 * Java mean), and the Spark run ({@code metaforge federated} on {@code local[2]}) merges client
 * prototypes that equal the centralised ones (embedded in one place on the driver) and reports
 * its accuracy table as classes arrive.
 */
class FederatedReconnaissanceTest {
    @Test
    void countWeightedMergingInAnyOrderIsTheMeanOfAllExamples() {
        RandomStream rng = RandomStream.of(3);
        double[][] examples = new double[23][4];
        double[] mean = new double[4];
        for (double[] e : examples) {
            for (int d = 0; d < 4; d++) {
                e[d] = rng.nextGaussian();
                mean[d] += e[d] / examples.length;
            }
        }
        int[] cuts = {0, 2, 3, 15, 23};   // four clients with 2, 1, 12 and 8 examples, merged over two "rounds"
        PrototypeBank bank = new PrototypeBank();
        for (int k = cuts.length - 2; k >= 0; k--) {
            double[] clientMean = new double[4];
            for (int i = cuts[k]; i < cuts[k + 1]; i++) {
                for (int d = 0; d < 4; d++) {
                    clientMean[d] += examples[i][d] / (cuts[k + 1] - cuts[k]);
                }
            }
            bank.merge(9, clientMean, cuts[k + 1] - cuts[k]);
        }
        assertEquals(23, bank.count(9));
        assertArrayEquals(mean, bank.prototype(9), 1e-14);
        bank.merge(4, new double[] {10, 10, 10, 10}, 1);
        assertEquals(4, bank.classify(new double[] {9, 9, 9, 9}));
        assertEquals(9, bank.classify(mean));
    }

    @Test
    void theFederatedExampleMergesExactlyAndReportsItsTable(@TempDir Path dir) throws Exception {
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        int code = FederatedMain.run(new String[] {"--spark", "local[2]", "--clients", "3", "--rounds", "3", "--classes-per-round", "3",
                "--pretrain-steps", "150", "--out", dir.toString()}, new PrintWriter(err, true), new PrintWriter(out, true));
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("| round | new classes | classes seen |"), out.toString());
        JsonNode result = new ObjectMapper().readTree(dir.resolve("federated.json").toFile());
        JsonNode rounds = result.get("rounds");
        assertEquals(3, rounds.size());
        for (int r = 0; r < 3; r++) {
            JsonNode row = rounds.get(r);
            assertEquals(3 * (r + 1), row.get("classesSeen").asInt());
            assertTrue(row.get("maxDifference").asDouble() < 1e-5, "merged vs centralised prototypes: " + row);
        }
        double last = rounds.get(2).get("accuracyAll").asDouble();
        assertTrue(last > 0.6, "9-way accuracy after the last round (chance 0.11): " + last);
        assertTrue(last > result.get("untrainedAccuracy").asDouble(), "the meta-trained embedding beats the untrained one: " + result);
        assertTrue(Files.readString(dir.resolve("federated.md")).contains("untrained embedding"));
    }

    /** Fashion-MNIST (Debian's dataset-fashion-mnist), when installed: slow (reads 60,000 images), run with -Dgroups=slow. */
    @Test
    @Tag("slow")
    void fashionMnistClassesArriveOneByOne(@TempDir Path dir) throws Exception {
        Path data = Path.of("/usr/share/datasets/fashion-mnist");
        Assumptions.assumeTrue(Files.isDirectory(data), "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        int code = FederatedMain.run(new String[] {"--spark", "local[2]", "--dataset", "fashion-mnist", "--data-dir", data.toString(),
                "--pretrain-steps", "200", "--out", dir.toString()}, new PrintWriter(err, true), new PrintWriter(out, true));
        assertEquals(0, code, err.toString());
        JsonNode rounds = new ObjectMapper().readTree(dir.resolve("federated.json").toFile()).get("rounds");
        assertEquals(6, rounds.size());
        assertEquals(10, rounds.get(5).get("classesSeen").asInt());
        for (JsonNode row : rounds) {
            assertTrue(row.get("maxDifference").asDouble() < 1e-5, row.toString());
        }
        assertTrue(rounds.get(5).get("accuracyAll").asDouble() > 0.5, "10-way accuracy (chance 0.1): " + rounds.get(5));
    }
}
