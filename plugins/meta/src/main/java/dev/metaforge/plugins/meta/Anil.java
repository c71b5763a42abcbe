package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * ANIL, "almost no inner loop" (Raghu, Raghu, Bengio and Vinyals 2020): MAML whose inner loop
 * adapts only the head (the parameters whose names start with {@code headPrefix}); the body is
 * shared by every task and learned in the outer loop only.
 *
 * @param module     the network; its head is the entries under {@code headPrefix}
 * @param loss       how tasks judge predictions
 * @param innerSteps inner steps during meta-training and by default in {@link #adapt}
 * @param innerLr    the inner learning rate
 * @param firstOrder true to treat inner gradients as constants
 * @param headPrefix name prefix of the head parameters, e.g. {@code "2."} for the last layer of a
 *                   three-layer {@code Mlp}; see {@link #lastLayerPrefix}
 */
public record Anil(Module module, TaskLoss loss, int innerSteps, double innerLr, boolean firstOrder, String headPrefix)
        implements MetaLearner {
    public Anil {
        requireNonNull(module, "module is null");
        requireNonNull(loss, "loss is null");
        requireNonNull(headPrefix, "headPrefix is null");
        InnerLoop.checkSteps(innerSteps);
        InnerLoop.checkLearningRate(innerLr);
        String prefix = headPrefix;
        if (module.parameters().stream().noneMatch(s -> s.name().startsWith(prefix))) {
            throw new IllegalArgumentException("ANIL head prefix '" + headPrefix + "' matches no parameter of the module; parameters: "
                    + module.parameters().stream().map(ParamSpec::name).toList());
        }
    }

    /** ANIL with the last layer as head: the prefix of the module's last parameter, up to and including its last dot. */
    public static Anil withLastLayerHead(Module module, TaskLoss loss, int innerSteps, double innerLr, boolean firstOrder) {
        return new Anil(module, loss, innerSteps, innerLr, firstOrder, lastLayerPrefix(module));
    }

    /** The prefix of the module's last declared parameter up to and including its last dot ("2." for "2.bias"). */
    public static String lastLayerPrefix(Module module) {
        List<ParamSpec> specs = module.parameters();
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("ANIL needs a module with parameters");
        }
        String last = specs.get(specs.size() - 1).name();
        int dot = last.lastIndexOf('.');
        return dot < 0 ? last : last.substring(0, dot + 1);
    }

    /** The names of the head parameters. */
    public Set<String> headNames() {
        return module.parameters().stream().map(ParamSpec::name).filter(n -> n.startsWith(headPrefix))
                .collect(Collectors.toCollection(java.util.LinkedHashSet::new));
    }

    @Override
    public Params adapt(Params metaParams, TaskBatch tasks, int steps) {
        requireNonNull(metaParams, "metaParams is null");
        requireNonNull(tasks, "tasks is null");
        // p + g (-lr) is p - lr g bit for bit, and its VJP needs no negation (a kernel call per parameter and step)
        double lr = innerLr;
        Set<String> head = headNames();
        return InnerLoop.run(module, loss, InnerLoop.moduleParams(module, metaParams), tasks, steps,
                head::contains, (name, p, g) -> p.add(g.mul(-lr)), !firstOrder);
    }

    @Override
    public Tensor predict(Params adapted, Tensor inputs) {
        return module.apply(adapted, inputs);
    }

    @Override
    public Tensor metaLoss(Params metaParams, TaskBatch batch) {
        return queryLoss(adapt(metaParams, batch), batch).mean();
    }

    /** The meta-loss is the mean query loss over tasks, so the default {@link #metaLossPart} splits it exactly. */
    @Override
    public boolean splitsOverTasks() {
        return true;
    }
}
