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

def out = new File(basedir, "target/glu-sine")
run([metaforge, "train", new File(basedir, "glu-sine.json").path, "--plugins", jar.path, "--backend", "reference",
     "--steps", "200", "--out", out.path, "--overwrite"])
def metrics = new File(out, "metrics.jsonl")
assert metrics.isFile() : "no metrics.jsonl in " + out
def evals = metrics.readLines().findAll { it.contains("\"eval\"") }
assert !evals.isEmpty() : "no evaluation in " + metrics
return true
