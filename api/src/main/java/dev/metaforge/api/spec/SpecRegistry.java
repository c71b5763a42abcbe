package dev.metaforge.api.spec;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.jsontype.NamedType;
import com.fasterxml.jackson.databind.type.LogicalType;
import dev.metaforge.api.plugin.MetaforgePlugin;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The type names every plugin registered, and an {@link ObjectMapper} that reads specs strictly:
 * unknown fields and unknown type names are errors naming the JSON path and the known names;
 * duplicate keys, content after the spec, and scalar coercion ({@code "600"} or {@code 600.7} for
 * an integer, a number for a string) are errors; a UTF-8 byte-order mark is skipped; every
 * numeric field's declared {@link Range} is checked ({@link SpecValidation}). Messages name the
 * source, the JSON path, the line and column of syntax errors, and types by their JSON names
 * ("a 'linear' module", "an integer"), never Java class names.
 * Two plugins claiming one name in one family fail at start-up.
 *
 * <pre>{@code
 * SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());
 * TrainSpec spec = specs.read(Path.of("examples/mip.json"), TrainSpec.class);
 * }</pre>
 */
public final class SpecRegistry {
    /** The largest spec accepted, in bytes (and characters): 4 MiB. */
    public static final int MAX_BYTES = 4 << 20;
    /** The deepest nesting of JSON objects and arrays accepted. */
    public static final int MAX_NESTING = 64;
    private static final Pattern SOURCE_IN_MESSAGE = Pattern.compile("\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)\\]");
    private static final Pattern FIELD_IN_MESSAGE = Pattern.compile("field '([A-Za-z_][A-Za-z0-9_]*)'");
    private static final Pattern FOUND_IN_MESSAGE = Pattern.compile(
            "(String|Array|Object|Boolean|Integer|Floating-point) value(?: \\(([^)]*)\\))?");
    private static final java.util.regex.Pattern JAVA_TYPE = java.util.regex.Pattern.compile("`([a-zA-Z_$][\\w$]*(?:\\.[\\w$]+)+(?:<[^`]*>)?)`");

    private final Map<Class<? extends Spec>, Map<String, SpecType>> byFamily;
    private final ObjectMapper mapper;
    private final List<String> pluginNames;

    private SpecRegistry(Map<Class<? extends Spec>, Map<String, SpecType>> byFamily, List<String> pluginNames) {
        this.byFamily = byFamily;
        this.pluginNames = List.copyOf(pluginNames);
        this.mapper = strictMapper();
        for (Map<String, SpecType> names : byFamily.values()) {
            for (SpecType t : names.values()) {
                mapper.registerSubtypes(new NamedType(t.type(), t.name()));
            }
        }
    }

    /**
     * Strict reading: duplicate keys, trailing content and scalar coercion (a string or a fraction
     * where an integer is expected, a number where a string or boolean is expected) are errors;
     * nesting and sizes are bounded so a hostile document cannot exhaust the stack or the heap.
     */
    private static ObjectMapper strictMapper() {
        JsonFactory factory = JsonFactory.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_NESTING)
                        .maxStringLength(MAX_BYTES)
                        .maxNumberLength(100)
                        .maxNameLength(10_000)
                        .maxDocumentLength(MAX_BYTES)
                        .build())
                .build();
        JsonMapper mapper = JsonMapper.builder(factory)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(SerializationFeature.INDENT_OUTPUT)
                .build();
        for (LogicalType type : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean, LogicalType.Textual,
                LogicalType.Enum}) {
            mapper.coercionConfigFor(type)
                    .setCoercion(CoercionInputShape.String, type == LogicalType.Textual || type == LogicalType.Enum
                            ? CoercionAction.TryConvert : CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Integer, type == LogicalType.Integer || type == LogicalType.Float
                            ? CoercionAction.TryConvert : CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, type == LogicalType.Float ? CoercionAction.TryConvert : CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, type == LogicalType.Boolean ? CoercionAction.TryConvert : CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
        }
        return mapper;
    }

    /** Registers the spec types of every {@link MetaforgePlugin} visible to {@code loader}. */
    public static SpecRegistry load(ClassLoader loader) {
        return of(loadPlugins(loader));
    }

    /**
     * Every {@link MetaforgePlugin} visible to {@code loader}, in {@link ServiceLoader} order; a plugin that
     * cannot be loaded (a missing class, a jar built for a newer Java) is a {@link SpecException} that says so.
     */
    public static List<MetaforgePlugin> loadPlugins(ClassLoader loader) {
        requireNonNull(loader, "loader is null");
        List<MetaforgePlugin> plugins = new ArrayList<>();
        try {
            ServiceLoader.load(MetaforgePlugin.class, loader).forEach(plugins::add);
        } catch (java.util.ServiceConfigurationError | LinkageError e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new SpecException("a plugin cannot be loaded: " + e.getMessage()
                    + (cause != e ? " (" + cause + ")" : "") + "; check that the plugin jar is built for Java 17 against this"
                    + " Metaforge version and that META-INF/services/" + MetaforgePlugin.class.getName()
                    + " names its plugin class", "$", e);
        }
        return List.copyOf(plugins);
    }

    /** Registers the spec types of these plugins. */
    public static SpecRegistry of(List<MetaforgePlugin> plugins) {
        Map<Class<? extends Spec>, Map<String, SpecType>> byFamily = new LinkedHashMap<>();
        Map<String, String> claimedBy = new LinkedHashMap<>();
        for (MetaforgePlugin plugin : plugins) {
            for (SpecType t : plugin.specTypes()) {
                Map<String, SpecType> names = byFamily.computeIfAbsent(t.family(), f -> new TreeMap<>());
                String key = t.family().getSimpleName() + "/" + t.name();
                if (names.containsKey(t.name())) {
                    throw new IllegalStateException("spec type name '" + t.name() + "' for " + t.family().getSimpleName()
                            + " is claimed twice: by plugin '" + claimedBy.get(key) + "' (" + names.get(t.name()).type().getName()
                            + ") and by plugin '" + plugin.name() + "' (" + t.type().getName() + "); rename one of them");
                }
                names.put(t.name(), t);
                claimedBy.put(key, plugin.name());
            }
        }
        List<String> names = new ArrayList<>();
        plugins.forEach(p -> names.add(p.name()));
        return new SpecRegistry(byFamily, names);
    }

    /** The names of the plugins whose types this registry knows, in load order. */
    public List<String> pluginNames() {
        return pluginNames;
    }

    /** The registered names of a family, sorted. */
    public List<String> names(Class<? extends Spec> family) {
        return List.copyOf(byFamily.getOrDefault(family, Map.of()).keySet());
    }

    /** A strict mapper knowing every registered type name. */
    public ObjectMapper mapper() {
        return mapper;
    }

    /**
     * Reads {@code file} as {@code type}, strictly (see the class comment), and checks the declared
     * {@link Range}s; errors name the file and JSON path, and for syntax errors the line and column.
     * The file must be UTF-8; a byte-order mark is skipped.
     */
    public <T> T read(Path file, Class<T> type) {
        requireNonNull(file, "file is null");
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new SpecException("spec file " + file + " has " + size + " bytes, more than the " + MAX_BYTES
                        + " a spec may have; is it really a spec?", "$", null);
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new SpecException("cannot read spec file " + file + ": " + e.getMessage(), "$", e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new SpecException(file + ": the spec is not UTF-8 text (" + e.getMessage() + "); save it as UTF-8", "$", e);
        }
        return read(text, type, file.toString());
    }

    /** Reads JSON text as {@code type}, like {@link #read(Path, Class)}; {@code source} names it in errors. */
    public <T> T read(String json, Class<T> type, String source) {
        requireNonNull(json, "json is null");
        requireNonNull(type, "type is null");
        requireNonNull(source, "source is null");
        String text = json.startsWith("\uFEFF") ? json.substring(1) : json;
        if (text.length() > MAX_BYTES) {
            throw new SpecException(source + " has " + text.length() + " characters, more than the " + MAX_BYTES
                    + " a spec may have", "$", null);
        }
        T value;
        try {
            value = mapper.readValue(text, type);
        } catch (JsonProcessingException e) {
            throw translate(e, source, text);
        } catch (StackOverflowError e) {
            throw new SpecException(source + ": the spec nests too deeply to read", "$", null);
        }
        if (value == null) {
            throw new SpecException(source + " at $: expected " + describeType(type) + ", found null", "$", null);
        }
        SpecValidation.check(value, source);
        return value;
    }

    /** Writes a spec back to JSON (the resolved form saved next to a run's results). */
    public String write(Object spec) {
        try {
            return mapper.writeValueAsString(spec);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write spec " + spec + ": " + e.getMessage(), e);
        }
    }

    private SpecException translate(JsonProcessingException e, String source, String text) {
        String path = e instanceof JsonMappingException m ? jsonPath(m.getPath()) : parserPath(e);
        String where = source + " at " + path;
        String location = location(e);
        if (e instanceof InvalidTypeIdException t) {
            Class<?> base = t.getBaseType() == null ? null : t.getBaseType().getRawClass();
            List<String> known = base == null ? List.of() : knownNamesFor(base);
            String id = t.getTypeId();
            String what = id == null ? "missing \"type\"" : "unknown type '" + id + "'";
            String hint = id == null ? "" : didYouMean(id, known) + "; plugins loaded: " + pluginNames
                    + ". A type from another plugin needs that plugin's jar: on the command line --plugins JAR (or"
                    + " METAFORGE_PLUGIN_PATH), in Java the class path; `metaforge plugins` lists what is loaded";
            return new SpecException(where + ": " + what + (base == null ? "" : " for " + familyName(base))
                    + "; known types: " + known + hint, path, e);
        }
        if (e instanceof UnrecognizedPropertyException u) {
            List<String> known = new ArrayList<>();
            if (u.getKnownPropertyIds() != null) {
                u.getKnownPropertyIds().forEach(o -> known.add(String.valueOf(o)));
            }
            java.util.Collections.sort(known);
            String field = u.getPropertyName();
            String fieldPath = path.endsWith("." + field) ? path : path + "." + field;
            return new SpecException(source + " at " + fieldPath + ": unknown field '" + field + "' in "
                    + describeType(u.getReferringClass()) + didYouMean(field, known) + "; known fields: " + known, fieldPath, e);
        }
        String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (original.startsWith("Duplicate field '")) {
            String field = original.substring("Duplicate field '".length(), Math.max("Duplicate field '".length(), original.lastIndexOf('\'')));
            String fieldPath = path.endsWith("." + field) ? path : path + "." + field;
            return new SpecException(source + " at " + fieldPath + ": duplicate key '" + field + "'" + location
                    + "; each key may appear once in an object", fieldPath, e);
        }
        if (e instanceof ValueInstantiationException v) {
            Throwable cause = v.getCause() == null ? v : v.getCause();
            String problem = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
            Matcher field = FIELD_IN_MESSAGE.matcher(problem);
            String fieldPath = field.find() ? path + "." + field.group(1) : path;
            Class<?> raw = v.getType() == null ? null : v.getType().getRawClass();
            String what = raw == null || raw.getSimpleName().equals("TrainSpec") ? "" : " (in " + describeType(raw) + ")";
            String misspelt = field.reset().find() && problem.contains("is required")
                    ? misspeltKey(text, path, field.group(1)) : "";
            return new SpecException(source + " at " + fieldPath + what + ": " + sanitize(problem) + misspelt, fieldPath, e);
        }
        if (e instanceof MismatchedInputException && original.startsWith("No content to map")) {
            return new SpecException(source + ": the spec is empty; it must be one JSON object", "$", e);
        }
        if (e instanceof InvalidFormatException f) {
            return new SpecException(where + ": expected " + describeType(f.getTargetType()) + ", found "
                    + describeValue(f.getValue()) + location, path, e);
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            String found = currentToken(m);
            if (found.isEmpty()) {
                found = foundInMessage(original);
            }
            String message = sanitize(m.getOriginalMessage());
            if (message.startsWith("Trailing token")) {
                return new SpecException(source + ": content after the end of the spec" + location
                        + "; a spec file holds one JSON object", "$", e);
            }
            return new SpecException(where + ": expected " + describeType(m.getTargetType())
                    + (found.isEmpty() ? "" : ", found " + found) + location, path, e);
        }
        if (e instanceof StreamReadException || e instanceof JsonParseException) {
            return new SpecException(where + ": not valid JSON" + location + ": " + sanitize(e.getOriginalMessage()), path, e);
        }
        return new SpecException(where + ": " + sanitize(e.getOriginalMessage()) + location, path, e);
    }

    /**
     * "; did you mean 'steps'?" when a known name is within two edits of what was written (case aside), else
     * "". For plugin specs that validate names themselves (an activation, a dataset, a metric).
     */
    public static String didYouMean(String written, List<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String name : known) {
            int d = editDistance(written.toLowerCase(java.util.Locale.ROOT), name.toLowerCase(java.util.Locale.ROOT));
            if (d < bestDistance) {
                best = name;
                bestDistance = d;
            }
        }
        return best == null ? "" : "; did you mean '" + best + "'?";
    }

    /**
     * A required field is missing: a key of the same object within two edits of it is almost certainly the
     * field misspelt ("stpes"), which is the error worth reporting. Jackson builds the object before it checks
     * for unknown keys, so this looks at the text itself.
     */
    private String misspeltKey(String text, String objectPath, String required) {
        try {
            com.fasterxml.jackson.databind.JsonNode node = mapper.readTree(text);
            Matcher step = PATH_STEP.matcher(objectPath);
            while (node != null && step.find()) {
                node = step.group(1) != null ? node.get(step.group(1)) : node.get(Integer.parseInt(step.group(2)));
            }
            if (node == null || !node.isObject()) {
                return "";
            }
            List<String> keys = new ArrayList<>();
            node.fieldNames().forEachRemaining(keys::add);
            for (String key : keys) {
                if (!key.equals(required) && !didYouMean(key, List.of(required)).isEmpty()) {
                    return "; the spec has '" + key + "' there: did you mean '" + required + "'?";
                }
            }
            return "";
        } catch (IOException | RuntimeException ignored) {
            return "";
        }
    }

    private static final Pattern PATH_STEP = Pattern.compile("\\.([^.\\[]+)|\\[(\\d+)]");

    /** Edit distance: insertions, deletions, substitutions, and a swap of neighbours, each counting one. */
    public static int editDistance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    /** ", line 3, column 14" (1-based) when Jackson knows where in the text the problem is. */
    private static String location(JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        if (at == null || at.getLineNr() <= 0) {
            return "";
        }
        return " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
    }

    /** The JSON path of a syntax error, from the parser's context. */
    private static String parserPath(JsonProcessingException e) {
        if (e.getProcessor() instanceof JsonParser parser) {
            try {
                JsonPointer pointer = parser.getParsingContext().pathAsPointer();
                StringBuilder sb = new StringBuilder("$");
                for (JsonPointer p = pointer; p != null && !p.matches(); p = p.tail()) {
                    if (p.mayMatchElement()) {
                        sb.append('[').append(p.getMatchingIndex()).append(']');
                    } else {
                        sb.append('.').append(p.getMatchingProperty());
                    }
                }
                return sb.toString();
            } catch (RuntimeException ignored) {
                return "$";
            }
        }
        return "$";
    }

    private static String currentToken(MismatchedInputException e) {
        if (e.getProcessor() instanceof JsonParser parser) {
            try {
                JsonToken token = parser.currentToken();
                if (token == null) {
                    return "";
                }
                return switch (token) {
                    case VALUE_STRING -> "the string " + quoteShort(parser.getText());
                    case VALUE_NUMBER_INT -> "the integer " + shorten(parser.getText());
                    case VALUE_NUMBER_FLOAT -> "the number " + shorten(parser.getText());
                    case VALUE_TRUE, VALUE_FALSE -> parser.getText();
                    case VALUE_NULL -> "null";
                    case START_ARRAY -> "an array";
                    case START_OBJECT, FIELD_NAME -> "an object";
                    default -> "";
                };
            } catch (IOException | RuntimeException ignored) {
                return "";
            }
        }
        return "";
    }

    /** What Jackson says it found, from its message: 'from String value ("600")' gives the string "600". */
    private static String foundInMessage(String message) {
        Matcher m = FOUND_IN_MESSAGE.matcher(message);
        if (!m.find()) {
            return "";
        }
        String kind = m.group(1);
        // Jackson sometimes names the token instead of the value: "String value (token `JsonToken.VALUE_STRING`)".
        String text = m.group(2) == null || m.group(2).startsWith("token") ? null : m.group(2);
        return switch (kind) {
            case "String" -> text == null ? "a string" : "the string " + quoteShort(text.length() >= 2 && text.startsWith("\"")
                    ? text.substring(1, text.length() - 1) : text);
            case "Array" -> "an array";
            case "Object" -> "an object";
            case "Boolean" -> text == null ? "true or false" : text;
            case "Integer" -> text == null ? "an integer" : "the integer " + shorten(text);
            default -> text == null ? "a number" : "the number " + shorten(text);
        };
    }

    private static String describeValue(Object value) {
        if (value instanceof String s) {
            return "the string " + quoteShort(s);
        }
        return value == null ? "null" : shorten(String.valueOf(value));
    }

    private static String quoteShort(String s) {
        return "\"" + shorten(s) + "\"";
    }

    private static String shorten(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    /**
     * What a Java type is in JSON terms: "an integer", "a string", "a 'linear' module", "the
     * training spec" - never a Java class name.
     */
    private String describeType(Class<?> type) {
        if (type == null) {
            return "a value";
        }
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class
                || type == short.class || type == Short.class || type == byte.class || type == Byte.class
                || type == java.math.BigInteger.class) {
            return "an integer";
        }
        if (type == double.class || type == Double.class || type == float.class || type == Float.class
                || type == java.math.BigDecimal.class) {
            return "a number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == String.class || type.isEnum()) {
            return "a string";
        }
        if (java.util.Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "an array";
        }
        if (Map.class.isAssignableFrom(type)) {
            return "an object";
        }
        for (Map<String, SpecType> names : byFamily.values()) {
            for (SpecType t : names.values()) {
                if (t.type() == type) {
                    return "a '" + t.name() + "' " + familyName(t.family());
                }
            }
        }
        if (Spec.class.isAssignableFrom(type) && type.isInterface()) {
            return "a " + familyName(type) + " object with a \"type\" (known: " + knownNamesFor(type) + ")";
        }
        if (type.getSimpleName().equals("TrainSpec")) {
            return "the training spec";
        }
        return "an object";
    }

    /** "ModuleSpec" -> "module", "HyperNetworkSpec" -> "hypernetwork", "TaskSamplerSpec" -> "task sampler". */
    static String familyName(Class<?> family) {
        String simple = family.getSimpleName();
        if (simple.endsWith("Spec")) {
            simple = simple.substring(0, simple.length() - 4);
        }
        if (simple.equals("HyperNetwork")) {
            return "hypernetwork";
        }
        return simple.replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Replaces Java type names Jackson puts in its messages ({@code `java.lang.Integer`},
     * {@code `dev.metaforge.plugins.core.LinearSpec`}) by their JSON description.
     */
    private String sanitize(String message) {
        if (message == null) {
            return "";
        }
        message = SOURCE_IN_MESSAGE.matcher(message).replaceAll("line $1, column $2");
        java.util.regex.Matcher m = JAVA_TYPE.matcher(message);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            int generic = name.indexOf('<');
            String raw = generic >= 0 ? name.substring(0, generic) : name;
            String replacement;
            try {
                replacement = describeType(Class.forName(raw, false, getClass().getClassLoader()));
            } catch (ClassNotFoundException | LinkageError ex) {
                replacement = describeByName(raw);
            }
            m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    private String describeByName(String raw) {
        for (Map<String, SpecType> names : byFamily.values()) {
            for (SpecType t : names.values()) {
                if (t.type().getName().equals(raw)) {
                    return describeType(t.type());
                }
            }
        }
        return "a value";
    }

    private List<String> knownNamesFor(Class<?> base) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<Class<? extends Spec>, Map<String, SpecType>> f : byFamily.entrySet()) {
            if (base.isAssignableFrom(f.getKey()) || f.getKey().isAssignableFrom(base)) {
                for (SpecType t : f.getValue().values()) {
                    if (base.isAssignableFrom(t.type())) {
                        out.add(t.name());
                    }
                }
            }
        }
        return out;
    }

    private static String jsonPath(List<JsonMappingException.Reference> refs) {
        StringBuilder sb = new StringBuilder("$");
        for (JsonMappingException.Reference r : refs) {
            if (r.getFieldName() != null) {
                sb.append('.').append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }
}
