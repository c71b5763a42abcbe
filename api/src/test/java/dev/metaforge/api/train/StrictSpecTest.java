package dev.metaforge.api.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.spec.SpecValidation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 13, strict specs: the mapper accepted duplicate keys (last wins) and trailing content, and
 * coerced "600" and 600.7 to 600 and a seed of 2.5 to 2. Each case here was accepted before.
 */
class StrictSpecTest {
    private static final String EXPERIMENT = "{\"type\": \"test-linear\", \"features\": 2, \"batch\": 4, \"anchorEvery\": 3, \"anchorWeight\": 0.1}";
    private static final String OPTIMIZER = "{\"type\": \"test-adam\", \"learningRate\": 0.01}";
    private static final String HEAD = "{\"experiment\": " + EXPERIMENT + ", \"optimizer\": " + OPTIMIZER + ", ";

    private final SpecRegistry specs = TestExperiments.registry();

    @TempDir
    Path dir;

    private SpecException reject(String json) {
        return assertThrows(SpecException.class, () -> specs.read(json, TrainSpec.class, "run.json"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "string for an integer   | \"steps\": \"600\"                       | $.steps | expected an integer, found the string \"600\"",
        "fraction for an integer | \"steps\": 600.7                         | $.steps | expected an integer, found 600.7",
        "integral float for int  | \"steps\": 600.0                         | $.steps | expected an integer, found 600.0",
        "fractional seed         | \"steps\": 6, \"seed\": 2.5              | $.seed  | expected an integer, found 2.5",
        "number for a string     | \"steps\": 6, \"dtype\": 32              | $.dtype | expected a string, found 32",
        "boolean for a string    | \"steps\": 6, \"dtype\": true            | $.dtype | expected a string, found true",
        "array for an integer    | \"steps\": [6]                           | $.steps | expected an integer, found an array",
        "duplicate key           | \"steps\": 6, \"steps\": 7               | $.steps | duplicate key 'steps'",
        "int overflow            | \"steps\": 99999999999                   | $.steps | out of range of int",
        "negative steps          | \"steps\": -6                            | $.steps | must be a positive number"})
    void scalarsAreNotCoercedAndDuplicatesAreRejected(String name, String fields, String path, String expected) {
        SpecException e = reject(HEAD + fields + "}");
        assertEquals(path, e.jsonPath(), e.getMessage());
        assertTrue(e.getMessage().startsWith("run.json at " + path), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertFalse(e.getMessage().contains("java."), "no Java class names: " + e.getMessage());
    }

    @Test
    void aDuplicateKeyInANestedObjectNamesItsPathAndLine() {
        SpecException e = reject("{\"experiment\": " + EXPERIMENT + ",\n \"optimizer\": {\"type\": \"test-adam\", \"learningRate\": 1,\n"
                + "   \"learningRate\": 2}, \"steps\": 6}");
        assertEquals("$.optimizer.learningRate", e.jsonPath());
        assertTrue(e.getMessage().contains("duplicate key 'learningRate' (line 3, column"), e.getMessage());
    }

    @Test
    void nestedCoercionNamesTheFullPath() {
        SpecException e = reject("{\"experiment\": {\"type\": \"test-linear\", \"features\": 2.5, \"batch\": 4, \"anchorEvery\": 3,"
                + " \"anchorWeight\": 0.1}, \"optimizer\": {\"type\": \"test-adam\", \"learningRate\": \"0.1\"}, \"steps\": 6}");
        assertEquals("$.experiment.features", e.jsonPath(), e.getMessage());
        SpecException lr = reject(HEAD.replace("0.01}", "\"0.01\"}") + "\"steps\": 6}");
        assertEquals("$.optimizer.learningRate", lr.jsonPath(), lr.getMessage());
        assertTrue(lr.getMessage().contains("expected a number, found the string \"0.01\""), lr.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "second object | {}",
        "stray token   | x",
        "stray array   | [1]"})
    void trailingContentIsRejected(String name, String trailing) {
        SpecException e = reject(HEAD + "\"steps\": 6} " + trailing);
        assertTrue(e.getMessage().contains("(line 1, column"), e.getMessage());
        assertTrue(e.getMessage().contains("content after the end of the spec") || e.getMessage().contains("not valid JSON"),
                e.getMessage());
    }

    @Test
    void syntaxErrorsGiveLineAndColumnWithoutEchoingTheFile() {
        SpecException e = reject(HEAD + "\n \"steps\": 6,\n}");
        assertTrue(e.getMessage().contains("not valid JSON (line 3, column 1)"), e.getMessage());
        SpecException eof = reject(HEAD + "\n \"steps\": 6");
        assertTrue(eof.getMessage().contains("(line 2, column"), eof.getMessage());
        assertFalse(eof.getMessage().contains("test-linear"), "the document is not echoed: " + eof.getMessage());
        assertTrue(reject("").getMessage().contains("the spec is empty"));
    }

    @Test
    void aUtf8ByteOrderMarkIsTolerated() throws IOException {
        Path file = dir.resolve("bom.json");
        byte[] body = (HEAD + "\"steps\": 6}").getBytes(StandardCharsets.UTF_8);
        byte[] withBom = new byte[body.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(body, 0, withBom, 3, body.length);
        Files.write(file, withBom);
        assertEquals(6, specs.read(file, TrainSpec.class).steps());
    }

    @Test
    void invalidUtf8NamesTheFile() throws IOException {
        Path file = dir.resolve("latin1.json");
        Files.write(file, (HEAD + "\"steps\": 6, \"dtype\": \"fl\u00f6at32\"}").getBytes(StandardCharsets.ISO_8859_1));
        SpecException e = assertThrows(SpecException.class, () -> specs.read(file, TrainSpec.class));
        assertTrue(e.getMessage().startsWith(file + ": the spec is not UTF-8"), e.getMessage());
    }

    @Test
    void errorsNameTypesByTheirJsonNamesNeverJavaClasses() {
        SpecException unknown = reject("{\"experiment\": " + EXPERIMENT + ", \"optimizer\": {\"type\": \"test-adam\", \"learningRate\": 1,"
                + " \"beta9\": 2}, \"steps\": 6}");
        assertEquals("$.optimizer.beta9", unknown.jsonPath());
        assertTrue(unknown.getMessage().contains("unknown field 'beta9' in a 'test-adam' optimizer; known fields: [learningRate]"),
                unknown.getMessage());
        SpecException top = reject(HEAD + "\"steps\": 6, \"logEvery\": 0}");
        assertEquals("$.logEvery", top.jsonPath(), top.getMessage());
        for (SpecException e : new SpecException[] {unknown, top, reject("[]"), reject(HEAD + "\"steps\": {}}")}) {
            assertFalse(e.getMessage().matches("(?s).*(dev\\.metaforge|java\\.|TrainSpec|AdamSpec).*"),
                    "no Java class names: " + e.getMessage());
        }
    }

    @Test
    void aMisspeltFieldIsReportedAsSuchWithTheNameItProbablyMeant() {
        // A misspelt required field: Jackson reports the missing field first; the error points at the typo.
        SpecException required = reject(HEAD + "\"stpes\": 600}");
        assertEquals("$.steps", required.jsonPath(), required.getMessage());
        assertTrue(required.getMessage().contains("the spec has 'stpes' there: did you mean 'steps'?"), required.getMessage());
        // A misspelt optional field: unknown, with the suggestion before the list of known fields.
        SpecException optional = reject(HEAD + "\"steps\": 6, \"logEvry\": 5}");
        assertEquals("$.logEvry", optional.jsonPath(), optional.getMessage());
        assertTrue(optional.getMessage().contains("unknown field 'logEvry' in the training spec; did you mean 'logEvery'?"),
                optional.getMessage());
        // Nothing close: no guess.
        SpecException far = reject(HEAD + "\"steps\": 6, \"banana\": 5}");
        assertFalse(far.getMessage().contains("did you mean"), far.getMessage());
        assertEquals(1, SpecRegistry.editDistance("stpes", "steps"), "a swap of neighbours is one edit");
    }

    @Test
    void aStringWhereAnArrayBelongsSaysSoWithoutJacksonTokenNames() {
        SpecException e = reject("{\"experiment\": [\"abc\"], \"optimizer\": " + OPTIMIZER + ", \"steps\": 6}");
        assertEquals("$.experiment", e.jsonPath(), e.getMessage());
        assertFalse(e.getMessage().matches("(?s).*(JsonToken|token|java\\.).*"), e.getMessage());
    }

    @Test
    void rangesAreCheckedWithTheJsonPathAlsoForSpecsBuiltInCode() {
        TrainSpec spec = new TrainSpec(new TestExperiments.LinearExperiment(2, 4, 3, 0.1), new TestExperiments.AdamSpec(0.01),
                5, 0, "float32", 1, 0, 0);
        SpecValidation.check(spec, "in code");
        SpecException e = reject(HEAD + "\"steps\": 6, \"evalEvery\": -3}");
        assertEquals("$.evalEvery", e.jsonPath(), e.getMessage());
    }
}
