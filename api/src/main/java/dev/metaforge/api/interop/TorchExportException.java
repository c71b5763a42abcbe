package dev.metaforge.api.interop;

import static java.util.Objects.requireNonNull;

/**
 * A module that cannot be exported to PyTorch: the message names its JSON type name, where it is
 * in the spec and which types do export ({@link TorchExport#EXPORTABLE_TYPES}).
 */
public final class TorchExportException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String typeName;
    private final String jsonPath;

    public TorchExportException(String message, String typeName, String jsonPath) {
        super(requireNonNull(message, "message is null"));
        this.typeName = requireNonNull(typeName, "typeName is null");
        this.jsonPath = requireNonNull(jsonPath, "jsonPath is null");
    }

    /** The JSON type name of the module that does not export (e.g. "moe"). */
    public String typeName() {
        return typeName;
    }

    /** Where it is in the spec (e.g. "$.experiment.model.layers[2]"). */
    public String jsonPath() {
        return jsonPath;
    }
}
