package dev.metaforge.plugins.metanet;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.stream.IntStream;

/**
 * A zoo task read from labelled datasets ({@link ZooData}): the first {@code trainPoints} training
 * examples and the first {@code testPoints} test examples, normalised and laid out as the model reads
 * them. Its fingerprint hashes those examples and labels, so a zoo cached for other data (a replaced
 * file, another subset) is not reused.
 */
final class DatasetTask implements ZooTask {
    private final LabelledDataset train;
    private final LabelledDataset test;
    private final Shape layout;
    private final int classes;
    private final long[] yTrain;
    private final long[] yTest;
    private final String fingerprint;

    private DatasetTask(LabelledDataset train, LabelledDataset test, Shape layout, int classes) {
        this.train = train;
        this.test = test;
        this.layout = layout;
        this.classes = classes;
        this.yTrain = IntStream.of(train.labels()).asLongStream().toArray();
        this.yTest = IntStream.of(test.labels()).asLongStream().toArray();
        this.fingerprint = hash(train, test, layout);
    }

    /**
     * The task of {@code data}: its first {@code trainPoints} / {@code testPoints} examples, checked
     * against the model's {@code classes} outputs; errors name the field.
     */
    static DatasetTask of(ZooData data, LabelledDataset trainSet, LabelledDataset testSet, int trainPoints, int testPoints, int classes) {
        if (!testSet.exampleShape().equals(trainSet.exampleShape())) {
            throw new IllegalArgumentException("zoo.data: training examples (" + trainSet + ") have shape " + trainSet.exampleShape()
                    + " but test examples (" + testSet + ") " + testSet.exampleShape() + "; give both sets the same image size");
        }
        Shape layout = data.inputShape() == null ? trainSet.exampleShape()
                : Shape.of(data.inputShape().stream().mapToInt(Integer::intValue).toArray());
        if (layout.size() != trainSet.exampleSize()) {
            throw new IllegalArgumentException("zoo.data: field 'inputShape' " + data.inputShape() + " holds " + layout.size()
                    + " values, but examples of " + trainSet + " have shape " + trainSet.exampleShape() + " (" + trainSet.exampleSize()
                    + " values); set it to a layout of " + trainSet.exampleSize() + " values, e.g. [1, 28, 28] for 28x28 images");
        }
        LabelledDataset train = first(trainSet, trainPoints, "trainPoints", "training");
        LabelledDataset test = first(testSet, testPoints, "testPoints", "test");
        for (LabelledDataset d : new LabelledDataset[] {train, test}) {
            int top = IntStream.of(d.labels()).max().orElse(0);
            if (top >= classes) {
                throw new IllegalArgumentException("zoo: the model has " + classes + " outputs but " + d + " has label " + top
                        + "; give the model's last layer " + (top + 1) + " or more outputs");
            }
        }
        return new DatasetTask(train.normalized(data.mean(), data.std()), test.normalized(data.mean(), data.std()), layout, classes);
    }

    private static LabelledDataset first(LabelledDataset d, int n, String field, String what) {
        if (n > d.size()) {
            throw new IllegalArgumentException("zoo: field '" + field + "' is " + n + " but the " + what + " set " + d + " has only "
                    + d.size() + " examples; lower it to " + d.size() + " or less");
        }
        return n == d.size() ? d : d.subset(IntStream.range(0, n).toArray());
    }

    /** The layout of one example for the model, e.g. [1, 28, 28]. */
    Shape layout() {
        return layout;
    }

    @Override
    public int classes() {
        return classes;
    }

    @Override
    public int trainPoints() {
        return train.size();
    }

    @Override
    public long[] yTrain() {
        return yTrain;
    }

    @Override
    public Tensor trainInputs(Engine engine, int[] rows) {
        return train.inputs(engine, rows, layout);
    }

    @Override
    public int testPoints() {
        return test.size();
    }

    @Override
    public long[] yTest() {
        return yTest;
    }

    @Override
    public Tensor testInputs(Engine engine, int from, int to) {
        return test.inputs(engine, IntStream.range(from, to).toArray(), layout);
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    private static String hash(LabelledDataset train, LabelledDataset test, Shape layout) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(layout.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            for (LabelledDataset d : new LabelledDataset[] {train, test}) {
                ByteBuffer buf = ByteBuffer.allocate(8 * Math.max(d.exampleSize(), 1) + 4);
                double[] row = new double[d.exampleSize()];
                for (int i = 0; i < d.size(); i++) {
                    buf.clear();
                    d.copyExample(i, row, 0);
                    for (double v : row) {
                        buf.putDouble(v);
                    }
                    buf.putInt(d.label(i));
                    md.update(buf.array(), 0, buf.position());
                }
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
