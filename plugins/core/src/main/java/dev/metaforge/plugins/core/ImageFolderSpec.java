package dev.metaforge.plugins.core;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.data.Idx;
import dev.metaforge.api.data.ImageFolderDataset;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;

/**
 * {@code {"type": "image-folder", "root": "omniglot/images_background", "size": 28, "invert": true}}:
 * {@link ImageFolderDataset}; a relative root resolves against the spec file's directory.
 *
 * @param root     the dataset directory (one sub-directory per class, nested as deep as needed)
 * @param size     images are resampled to size × size (default 28, at most {@value ImageFolderDataset#MAX_SIZE})
 * @param invert   map grey v to 1 - v (default false)
 * @param maxBytes refuse a folder whose examples would take more bytes than this (default: half the Java heap, at most 1 GiB)
 */
public record ImageFolderSpec(
        String root,
        @Range(min = 1, max = 4096, what = "image side in pixels") Integer size,
        Boolean invert,
        @Range(min = 1, max = Long.MAX_VALUE, what = "bytes") Long maxBytes) implements LabelledDatasetSpec {
    public ImageFolderSpec {
        requireNonNull(root, "image-folder: \"root\" is required");
        size = size == null ? 28 : size;
        invert = invert == null ? Boolean.FALSE : invert;
        if (size <= 0 || size > ImageFolderDataset.MAX_SIZE) {
            throw new IllegalArgumentException("image-folder: field 'size' must be in [1, " + ImageFolderDataset.MAX_SIZE + "], got " + size);
        }
        if (maxBytes != null && maxBytes <= 0) {
            throw new IllegalArgumentException("image-folder: field 'maxBytes' must be positive, got " + maxBytes);
        }
    }

    @Override
    public LabelledDataset build(BuildContext context) {
        return ImageFolderDataset.load(context.resolve(root), size, invert, maxBytes == null ? Idx.defaultMaxBytes() : maxBytes);
    }
}
