/**
 * Data: the one labelled-dataset type {@link dev.metaforge.api.data.LabelledDataset} (examples
 * kept compact in their stored type, {@link dev.metaforge.api.data.PackedArray}, and scaled when
 * a batch is built), its readers ({@link dev.metaforge.api.data.Idx bounded IDX files},
 * {@link dev.metaforge.api.data.ImageFolderDataset image folders},
 * {@link dev.metaforge.api.data.GaussianClusters generated clusters}), its JSON spec family
 * {@link dev.metaforge.api.data.LabelledDatasetSpec}, and {@link dev.metaforge.api.data.Sampling
 * index draws} for batches and episodes.
 */
package dev.metaforge.api.data;
