/**
 * Interoperability with other frameworks: {@link dev.metaforge.api.interop.TorchExport} turns a
 * trained module and its checkpoint into a PyTorch state dict (names and orientation that
 * {@code load_state_dict} accepts) and the Python source of the equivalent {@code torch.nn} module.
 */
package dev.metaforge.api.interop;
