package dev.metaforge.api.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A component example is checked when it is made, so a plugin author sees a mistake before the kit runs. */
class ComponentExampleTest {
    private static String error(String name, String json) {
        return assertThrows(IllegalArgumentException.class, () -> ComponentExample.of(name, json)).getMessage();
    }

    @Test
    void acceptsAnExperimentObject() {
        ComponentExample e = ComponentExample.of("mine", "{\"type\": \"regression\", \"model\": {}}");
        assertTrue(e.exactGradient());
        assertFalse(ComponentExample.withSurrogateGradient("reptile", "{\"type\": \"reptile\"}").exactGradient());
    }

    @Test
    void rejectsWhatCannotBeAnExperimentNamingTheExample() {
        String syntax = error("mine", "{\"type\": \"regression\"");
        assertTrue(syntax.startsWith("component example 'mine': experimentJson is not valid JSON: "), syntax);
        // 21 characters: the end of input is column 22; Jackson's "[Source: ...]" noise is gone
        assertTrue(syntax.endsWith("(line 1, column 22)"), syntax);
        assertFalse(syntax.contains("Source"), syntax);
        assertTrue(error("mine", "[1, 2]").contains("'mine': experimentJson must be a JSON object"), error("mine", "[1, 2]"));
        assertTrue(error("mine", "{\"model\": {}}").contains("'mine': experimentJson needs a string \"type\""));
        assertTrue(error("mine", "{\"type\": 3}").contains("needs a string \"type\""));
        assertTrue(error(" ", "{\"type\": \"x\"}").contains("must be 1 to 200 printable characters"));
        assertTrue(error("a\nb", "{\"type\": \"x\"}").contains("printable"));
        assertThrows(NullPointerException.class, () -> ComponentExample.of("x", null));
    }

    @Test
    void pluginsDeclareNoneByDefault() {
        MetaforgePlugin plugin = () -> "empty";
        assertEquals(List.of(), plugin.conformanceExamples());
    }
}
