package dev.metaforge.cli;

import dev.metaforge.spi.Device;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code --device cpu|gpu|gpu:N}: a bad value is a usage error (exit 2) before anything is opened. */
final class DeviceConverter implements ITypeConverter<Device> {
    @Override
    public Device convert(String value) {
        try {
            return Device.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
