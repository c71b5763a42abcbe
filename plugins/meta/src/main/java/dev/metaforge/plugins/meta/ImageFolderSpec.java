package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.LabelledDataset;
import dev.metaforge.api.meta.LabelledDatasetSpec;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;

/**
 * {@code {"type": "image-folder", "root": "omniglot/images_background", "size": 28, "invert": true}}:
 * {@link ImageFolderDataset}; a relative root resolves against the spec file's directory.
 *
 * @param root   the dataset directory (one sub-directory per class, nested as deep as needed)
 * @param size   images are resampled to size × size (default 28)
 * @param invert map grey v to 1 - v (default false)
 */
public record ImageFolderSpec(
        String root,
        @Range(min = 1, max = 4096, what = "image side in pixels") Integer size,
        Boolean invert) implements LabelledDatasetSpec {
    public ImageFolderSpec {
        requireNonNull(root, "image-folder: \"root\" is required");
        size = size == null ? 28 : size;
        invert = invert == null ? Boolean.FALSE : invert;
    }

    @Override
    public LabelledDataset build(BuildContext context) {
        return ImageFolderDataset.load(context.resolve(root), size, invert);
    }
}
