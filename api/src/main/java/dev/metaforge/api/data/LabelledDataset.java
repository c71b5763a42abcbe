package dev.metaforge.api.data;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * Examples with integer class labels, held compactly on the Java heap: the one dataset type of
 * Metaforge, read by every reader ({@link Idx#readDataset IDX files}, {@link ImageFolderDataset
 * image folders}, {@link GaussianClusters generated clusters}) and consumed by every sampler
 * (supervised batches, N-way K-shot episodes).
 *
 * <p>Values stay in their stored {@link ElementType} ({@link PackedArray}; IDX pixels stay bytes)
 * until a batch is made; an example's value is {@code stored * scale + shift}, applied while the
 * batch tensor is built ({@code scale} is e.g. 1/255 for ubyte pixels; {@link #normalized} folds a
 * mean and standard deviation into {@code scale} and {@code shift}). Labels are class ids
 * {@code >= 0}; samplers that need {@code 0..N-1} remap them.
 *
 * <pre>{@code
 * LabelledDataset train = Idx.readDataset(images, labels, 1.0 / 255);   // 47 MB for Fashion-MNIST
 * Tensor x = train.inputs(engine, rows, Shape.of(1, 28, 28));              // [rows.length, 1, 28, 28]
 * Tensor y = train.labels(engine, rows);                                   // INT64 [rows.length]
 * LabelledDataset firstFive = train.withClasses(new int[] {0, 1, 2, 3, 4});
 * }</pre>
 *
 * Immutable (the packed values are shared between a dataset and its {@link #normalized} views,
 * never modified) and therefore safe to share between threads.
 */
public final class LabelledDataset {
    private final PackedArray values;
    private final Shape exampleShape;
    private final int exampleSize;
    private final int[] labels;
    private final double scale;
    private final double shift;
    private final String source;

    private LabelledDataset(PackedArray values, Shape exampleShape, int[] labels, double scale, double shift, String source) {
        this.values = requireNonNull(values, "values is null");
        this.exampleShape = requireNonNull(exampleShape, "exampleShape is null");
        this.labels = requireNonNull(labels, "labels is null");
        this.source = requireNonNull(source, "source is null");
        if (!Double.isFinite(scale) || !Double.isFinite(shift)) {
            throw new IllegalArgumentException("scale and shift must be finite, got " + scale + " and " + shift);
        }
        this.scale = scale;
        this.shift = shift;
        this.exampleSize = exampleShape.sizeAsInt();
        if ((long) labels.length * exampleSize != values.length()) {
            throw new IllegalArgumentException(values.length() + " values do not make " + labels.length + " examples of shape "
                    + exampleShape + " (" + exampleSize + " values each)");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0) {
                throw new IllegalArgumentException("label of example " + i + " is negative (" + labels[i]
                        + "); class labels must be >= 0");
            }
        }
    }

    /**
     * Examples packed in {@code values} ({@code labels.length * exampleShape.size()} values,
     * example after example, row-major), whose value is {@code stored * scale}. The values are
     * not copied; the labels are.
     */
    public static LabelledDataset of(PackedArray values, Shape exampleShape, int[] labels, double scale) {
        return new LabelledDataset(values, exampleShape, requireNonNull(labels, "labels is null").clone(), scale, 0.0, "in-memory");
    }

    /** Examples given as floats (packed, 4 bytes each); the labels are copied. */
    public static LabelledDataset ofFloats(float[] values, Shape exampleShape, int[] labels) {
        return of(PackedArray.ofFloats(values), exampleShape, labels, 1.0);
    }

    /** This dataset described as {@code source} (a file or folder name) in messages and {@link #toString()}. */
    public LabelledDataset withSource(String source) {
        return new LabelledDataset(values, exampleShape, labels, scale, shift, source);
    }

    /**
     * A view with values {@code (value - mean) / std}, sharing this dataset's storage: the
     * normalisation is applied when batches are built.
     */
    public LabelledDataset normalized(double mean, double std) {
        if (!Double.isFinite(mean) || !(std > 0) || Double.isInfinite(std)) {
            throw new IllegalArgumentException("normalisation needs a finite mean and a finite std > 0, got mean " + mean
                    + " and std " + std);
        }
        return new LabelledDataset(values, exampleShape, labels, scale / std, (shift - mean) / std, source);
    }

    /** Number of examples. */
    public int size() {
        return labels.length;
    }

    /** The shape of one example, e.g. [28, 28] for a grey image or [2] for a point. */
    public Shape exampleShape() {
        return exampleShape;
    }

    /** Values per example. */
    public int exampleSize() {
        return exampleSize;
    }

    /** The type the values are stored in. */
    public ElementType elementType() {
        return values.type();
    }

    /** Memory held by the values, in bytes. */
    public long storageBytes() {
        return values.byteSize();
    }

    /** The factor applied to stored values. */
    public double scale() {
        return scale;
    }

    /** The offset added after {@link #scale()}. */
    public double shift() {
        return shift;
    }

    /** Where the examples came from (a file, a folder, "gaussian-clusters"), for messages. */
    public String source() {
        return source;
    }

    /** The class label of example {@code row}. */
    public int label(int row) {
        checkRow(row);
        return labels[row];
    }

    /** Every label, in example order (a copy). */
    public int[] labels() {
        return labels.clone();
    }

    /** The distinct labels, ascending. */
    public int[] classes() {
        return Arrays.stream(labels).distinct().sorted().toArray();
    }

    /** For each label (ascending), the rows that carry it (ascending). */
    public Map<Integer, int[]> rowsByClass() {
        int[] classes = classes();
        int[] counts = new int[classes.length];
        for (int label : labels) {
            counts[Arrays.binarySearch(classes, label)]++;
        }
        int[][] rows = new int[classes.length][];
        for (int c = 0; c < classes.length; c++) {
            rows[c] = new int[counts[c]];
        }
        int[] filled = new int[classes.length];
        for (int i = 0; i < labels.length; i++) {
            int c = Arrays.binarySearch(classes, labels[i]);
            rows[c][filled[c]++] = i;
        }
        Map<Integer, int[]> out = new LinkedHashMap<>();
        for (int c = 0; c < classes.length; c++) {
            out.put(classes[c], rows[c]);
        }
        return Collections.unmodifiableMap(out);
    }

    /** Example {@code row}'s values (scaled), as a new array. */
    public double[] example(int row) {
        double[] out = new double[exampleSize];
        copyExample(row, out, 0);
        return out;
    }

    /** Writes example {@code row}'s values (scaled) into {@code destination} at {@code offset}. */
    public void copyExample(int row, float[] destination, int offset) {
        checkRow(row);
        values.decode(row * exampleSize, exampleSize, destination, offset, scale, shift);
    }

    /** Writes example {@code row}'s values (scaled) into {@code destination} at {@code offset}. */
    public void copyExample(int row, double[] destination, int offset) {
        checkRow(row);
        values.decode(row * exampleSize, exampleSize, destination, offset, scale, shift);
    }

    /** The examples at {@code rows}, in that order: a tensor [rows.length, ...exampleShape] of the engine's default dtype. */
    public Tensor inputs(Engine engine, int[] rows) {
        return inputs(engine, rows, exampleShape);
    }

    /**
     * The examples at {@code rows} as a tensor [rows.length, ...shape] of the engine's default
     * dtype: each example read row-major and laid out in {@code shape}, e.g. [1, 28, 28] for a
     * convolution or [784] for an MLP. {@code shape} must hold {@link #exampleSize()} values.
     */
    public Tensor inputs(Engine engine, int[] rows, Shape shape) {
        requireNonNull(engine, "engine is null");
        requireNonNull(rows, "rows is null");
        requireNonNull(shape, "shape is null");
        if (shape.size() != exampleSize) {
            throw new IllegalArgumentException("examples of " + source + " have shape " + exampleShape + " (" + exampleSize
                    + " values), which cannot be laid out as " + shape + " (" + shape.size() + " values)");
        }
        int[] dims = new int[shape.rank() + 1];
        dims[0] = rows.length;
        System.arraycopy(shape.dims(), 0, dims, 1, shape.rank());
        int n = Math.multiplyExact(rows.length, exampleSize);
        if (engine.defaultDType() == DType.FLOAT64) {
            double[] out = new double[n];
            for (int i = 0; i < rows.length; i++) {
                copyExample(rows[i], out, i * exampleSize);
            }
            return engine.tensor(out, Shape.of(dims), DType.FLOAT64);
        }
        float[] out = new float[n];
        for (int i = 0; i < rows.length; i++) {
            copyExample(rows[i], out, i * exampleSize);
        }
        return engine.tensor(out, dims);
    }

    /** The labels at {@code rows} as an INT64 tensor [rows.length]. */
    public Tensor labels(Engine engine, int[] rows) {
        requireNonNull(engine, "engine is null");
        long[] out = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = label(rows[i]);
        }
        return engine.indices(out, rows.length);
    }

    /** The examples at {@code rows}, in that order, with their labels (values copied, still packed). */
    public LabelledDataset subset(int[] rows) {
        requireNonNull(rows, "rows is null");
        int[] y = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            y[i] = label(rows[i]);
        }
        return new LabelledDataset(values.gatherRows(rows, exampleSize), exampleShape, y, scale, shift, source);
    }

    /**
     * The examples of the given classes (labels unchanged, order kept), e.g. classes 0-4 of
     * Fashion-MNIST for meta-training and 5-9 for meta-testing. Every class must occur.
     */
    public LabelledDataset withClasses(int[] classes) {
        requireNonNull(classes, "classes is null");
        TreeSet<Integer> wanted = new TreeSet<>();
        for (int c : classes) {
            if (!wanted.add(c)) {
                throw new IllegalArgumentException("class " + c + " is listed twice in " + Arrays.toString(classes));
            }
        }
        TreeSet<Integer> missing = new TreeSet<>(wanted);
        for (int label : labels) {
            missing.remove(label);
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("classes " + missing + " do not occur in " + this + "; its classes are "
                    + Arrays.toString(classes()));
        }
        int[] rows = IntStream.range(0, labels.length).filter(i -> wanted.contains(labels[i])).toArray();
        return subset(rows);
    }

    private void checkRow(int row) {
        if (row < 0 || row >= labels.length) {
            throw new IndexOutOfBoundsException("row " + row + " is outside " + this);
        }
    }

    /** Same values (bit for bit, same storage type), shape, labels, scale and shift; the source is not compared. */
    @Override
    public boolean equals(Object o) {
        return o instanceof LabelledDataset d && exampleShape.equals(d.exampleShape) && Arrays.equals(labels, d.labels)
                && Double.compare(scale, d.scale) == 0 && Double.compare(shift, d.shift) == 0 && values.equals(d.values);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * exampleShape.hashCode() + Arrays.hashCode(labels)) + values.hashCode();
    }

    @Override
    public String toString() {
        return source + " (" + labels.length + " examples of shape " + exampleShape + ", " + classes().length + " classes, "
                + values.type().jsonName() + ")";
    }
}
