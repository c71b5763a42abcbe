package dev.metaforge.api.train;

import dev.metaforge.api.spec.SpecException;

/**
 * A spec the pre-flight check refused before the run created anything: its first step does not fit
 * its shapes (the model does not take what the task gives) or needs more memory than the budget.
 * The message names the JSON path when known, the shapes, the estimate and what to change; the
 * command line exits with 2.
 */
public class PreflightException extends SpecException {
    private static final long serialVersionUID = 1L;

    public PreflightException(String message, String jsonPath, Throwable cause) {
        super(message, jsonPath, cause);
    }
}
