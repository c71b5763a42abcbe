package dev.metaforge.tck;

import dev.metaforge.spi.Backend;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Kernels;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.opentest4j.TestAbortedException;

/**
 * The kit's JUnit extension. Every rule class carries {@code @ExtendWith(TckExtension.class)}; it
 * <ul>
 *   <li>creates the backend under test and the reference backend once per run (in the root
 *       extension context's store, which closes them when the run ends);</li>
 *   <li>injects {@link TckContext}, {@link Backend} and {@link Kernels} (of the backend under test)
 *       into rule methods and constructors;</li>
 *   <li>publishes the backend's name, version, device and capabilities as report entries, which
 *       {@link ConformanceReportListener} picks up;</li>
 *   <li>gates rules on {@link TckRule#capability()}: when a capability is missing the rule body is
 *       skipped, the capability's probe operations must throw
 *       {@link dev.metaforge.spi.UnsupportedCapabilityException} (else FAIL), and the rule is
 *       aborted with a message starting with {@value #UNSUPPORTED_PREFIX}.</li>
 * </ul>
 */
public final class TckExtension implements ParameterResolver, BeforeAllCallback, InvocationInterceptor {
    /** Abort messages starting with this are reported as UNSUPPORTED rather than SKIPPED. */
    public static final String UNSUPPORTED_PREFIX = "UNSUPPORTED:";

    /** Report entry keys. */
    public static final String ENTRY_BACKEND = "metaforge.tck.backend";
    public static final String ENTRY_VERSION = "metaforge.tck.backendVersion";
    public static final String ENTRY_DEVICE = "metaforge.tck.device";
    /** Report entry: the backend options the kit ran with, as "key=value" pairs joined by commas. */
    public static final String ENTRY_OPTIONS = "metaforge.tck.backendOptions";
    public static final String ENTRY_CAPABILITIES = "metaforge.tck.capabilities";
    public static final String ENTRY_PROVIDER = "metaforge.tck.provider";
    public static final String ENTRY_ERROR = "metaforge.tck.error";
    /** Key under which a rule publishes a measurement ({@code TestReporter.publishEntry}) for the report. */
    public static final String ENTRY_FIGURE = "metaforge.tck.figure";

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(TckExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        TckBackends.Session session = session(context);
        Map<String, String> entries = new LinkedHashMap<>();
        entries.put(ENTRY_BACKEND, session.displayName());
        if (session.failure() != null) {
            entries.put(ENTRY_ERROR, String.valueOf(session.failure().getMessage()));
            context.publishReportEntry(entries);
            throw session.failure();
        }
        TckContext tck = session.context(context::getConfigurationParameter);
        Backend b = tck.backend();
        entries.put(ENTRY_VERSION, b.version());
        entries.put(ENTRY_DEVICE, String.valueOf(b.device()));
        if (!tck.config().options().isEmpty()) {
            // JUnit refuses blank report values: no options, no entry
            entries.put(ENTRY_OPTIONS, tck.config().options().entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .map(o -> o.getKey() + "=" + o.getValue()).collect(Collectors.joining(",")));
        }
        entries.put(ENTRY_CAPABILITIES, b.capabilities().stream().map(Enum::name).sorted().collect(Collectors.joining(",")));
        entries.put(ENTRY_PROVIDER, tck.provider().getClass().getName());
        context.publishReportEntry(entries);
    }

    /** The run's session, created on first use. */
    static TckBackends.Session session(ExtensionContext context) {
        ExtensionContext.Store store = context.getRoot().getStore(NAMESPACE);
        return store.getOrComputeIfAbsent(TckBackends.Session.class, key -> TckBackends.Session.open(
                context.getConfigurationParameter(TckBackends.BACKEND_PARAMETER).orElse(null),
                context.getConfigurationParameter(TckBackends.DEVICE_PARAMETER).orElse(null),
                context.getConfigurationParameter(TckBackends.OPTIONS_PARAMETER).orElse(null),
                classLoader()), TckBackends.Session.class);
    }

    private static ClassLoader classLoader() {
        ClassLoader tccl = Thread.currentThread().getContextClassLoader();
        return tccl != null ? tccl : TckExtension.class.getClassLoader();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        return type == TckContext.class || type == Backend.class || type == Kernels.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        TckContext tck;
        try {
            tck = session(extensionContext).context(extensionContext::getConfigurationParameter);
        } catch (RuntimeException e) {
            throw new ParameterResolutionException(e.getMessage(), e);
        }
        Class<?> type = parameterContext.getParameter().getType();
        if (type == TckContext.class) {
            return tck;
        }
        if (type == Backend.class) {
            return tck.backend();
        }
        return tck.kernels();
    }

    // ---- capability gating --------------------------------------------------------------------

    @Override
    public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> invocationContext,
                                    ExtensionContext extensionContext) throws Throwable {
        gate(invocationContext.getExecutable(), invocation, extensionContext);
        invocation.proceed();
    }

    @Override
    public <T> T interceptTestFactoryMethod(Invocation<T> invocation, ReflectiveInvocationContext<Method> invocationContext,
                                            ExtensionContext extensionContext) throws Throwable {
        gate(invocationContext.getExecutable(), invocation, extensionContext);
        return invocation.proceed();
    }

    @Override
    public void interceptTestTemplateMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> invocationContext,
                                            ExtensionContext extensionContext) throws Throwable {
        gate(invocationContext.getExecutable(), invocation, extensionContext);
        invocation.proceed();
    }

    /** Skips the invocation and aborts as UNSUPPORTED when a capability of the rule is missing. */
    private static void gate(Method method, Invocation<?> invocation, ExtensionContext context) {
        TckRule rule = method.getAnnotation(TckRule.class);
        if (rule == null || rule.capability().length == 0) {
            return;
        }
        TckContext tck = session(context).context(context::getConfigurationParameter);
        List<Capability> missing = new ArrayList<>();
        for (Capability c : rule.capability()) {
            if (!tck.supports(c)) {
                missing.add(c);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        invocation.skip();
        List<String> checked = new ArrayList<>();
        for (Capability c : missing) {
            for (Map.Entry<String, Supplier<?>> probe : tck.probes(c).entrySet()) {
                tck.assertUnsupported(c, probe.getKey(), probe.getValue());
                checked.add(probe.getKey());
            }
        }
        throw new TestAbortedException(UNSUPPORTED_PREFIX + " backend '" + tck.backend().name() + "' does not declare "
                + missing + (checked.isEmpty() ? "" : "; " + String.join(", ", checked)
                + " threw UnsupportedCapabilityException as required"));
    }
}
