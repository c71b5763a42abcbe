/**
 * The pre-flight check's machinery: a shape-only backend ({@link dev.metaforge.api.preflight.ShapeBackend})
 * whose kernels compute output shapes and dtypes without values, a {@link dev.metaforge.api.preflight.MemoryMeter}
 * that counts what a pass would have allocated, and the {@link dev.metaforge.api.preflight.MemoryBudget}
 * a step must fit. {@link dev.metaforge.api.train.Preflight} runs a spec's first step on them before a
 * run creates a directory or allocates memory.
 */
package dev.metaforge.api.preflight;
