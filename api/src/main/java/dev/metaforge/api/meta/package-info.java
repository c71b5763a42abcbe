/**
 * Meta-learning: {@link dev.metaforge.api.meta.MetaLearner} (task support set to adapted
 * {@link dev.metaforge.api.tensor.Params}, processed as a weight batch over the tasks of a
 * meta-batch), {@link dev.metaforge.api.meta.TaskSampler task distributions} (N-way K-shot
 * episodes are drawn from a {@link dev.metaforge.api.data.LabelledDataset}), their JSON spec
 * families, and {@link dev.metaforge.api.meta.MetaGradientCheck finite-difference checks}.
 */
package dev.metaforge.api.meta;
