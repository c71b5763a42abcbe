// Run by the build (maven-invoker-plugin) after this project's own build: the plugin jar trains through the
// metaforge command exactly as a user runs it. repositoryRoot is the Metaforge checkout; basedir this project.
def metaforge = new File(repositoryRoot, "metaforge").path
def jar = new File(basedir, "target/metaforge-plugin-glu.jar")
assert jar.isFile() : "the plugin jar was not built: " + jar

def run(List<String> command) {
    def process = new ProcessBuilder(command).redirectErrorStream(true).directory(basedir).start()
    def output = process.inputStream.getText("UTF-8")
    process.waitFor()
    println output
    assert process.exitValue() == 0 : "'" + command.join(" ") + "' failed with exit code " + process.exitValue() + ":\n" + output
    return output
}

def listed = run([metaforge, "plugins", "--plugins", jar.path])
assert listed.contains("glu-example  " + jar.canonicalPath) : "metaforge plugins does not list the glu plugin:\n" + listed
assert listed.contains("module: glu")

// The component rules on the glu example, on the PyTorch backend, from the command line.
def report = new File(basedir, "target/tck-report")
def tck = run([metaforge, "tck", "--plugins", jar.path, "--backend", "djl", "--rules", "MODEL-FAMILY-*",
               "--param", "metaforge.tck.components=glu-example/*", "--report", report.path])
assert tck.contains("CONFORMANT") && !tck.contains("NOT_CONFORMANT") : "the glu example is not conformant on djl:\n" + tck
assert new File(report, "conformance.md").text.contains("regression through glu layers")

def out = new File(basedir, "target/glu-sine")
run([metaforge, "train", new File(basedir, "glu-sine.json").path, "--plugins", jar.path, "--backend", "reference",
     "--steps", "200", "--out", out.path, "--overwrite"])
def metrics = new File(out, "metrics.jsonl")
assert metrics.isFile() : "no metrics.jsonl in " + out
def evals = metrics.readLines().findAll { it.contains("\"eval\"") }
assert !evals.isEmpty() : "no evaluation in " + metrics
return true
