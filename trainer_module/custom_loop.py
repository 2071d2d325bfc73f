"""The guide's custom training loop: tf.GradientTape over `model.trainable_weights`.

A drop-in for `model.fit` in both stages (`training_loop: custom`): same loss,
metric, callbacks, logs and history. Like `fit`, it takes the optimizer the
stage compiled and reads `model.trainable_weights` when it starts, so which
weights learn is fixed per stage, as the guide's recompile fixes it for `fit`.
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from trainer_module import objective


def fit_custom(
    model: keras.Model,
    train_data: tf.data.Dataset,
    eval_data: tf.data.Dataset,
    *,
    initial_epoch: int,
    epochs: int,
    callbacks: list[keras.callbacks.Callback],
    jit_compile: bool = False,
) -> keras.callbacks.History:
    """Trains epochs [initial_epoch, epochs) and returns the History, as `fit` does."""
    strategy = model.distribute_strategy
    optimizer = model.optimizer
    scales_loss = isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer)
    weights = model.trainable_weights
    with strategy.scope():
        classes = objective.num_classes_of(model)
        per_example_loss = objective.make_loss(classes, reduction=keras.losses.Reduction.NONE)
        train_metrics = [keras.metrics.Mean("loss"), *objective.make_metrics(classes)]
        eval_metrics = [keras.metrics.Mean("loss"), *objective.make_metrics(classes)]
        optimizer.build(weights)

    def update_metrics(metrics, labels, logits, losses) -> None:
        metrics[0].update_state(losses)
        for metric in metrics[1:]:
            metric.update_state(labels, logits)

    @tf.function(jit_compile=jit_compile)
    def train_step(images: tf.Tensor, labels: tf.Tensor) -> None:
        labels = tf.reshape(labels, [-1, 1])
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            losses = per_example_loss(labels, logits)
            loss = tf.nn.compute_average_loss(losses)
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            if scales_loss:
                loss = optimizer.get_scaled_loss(loss)
        gradients = tape.gradient(loss, weights)
        if scales_loss:
            gradients = optimizer.get_unscaled_gradients(gradients)
        optimizer.apply_gradients(zip(gradients, weights, strict=True))
        update_metrics(train_metrics, labels, logits, losses)

    @tf.function(jit_compile=jit_compile)
    def eval_step(images: tf.Tensor, labels: tf.Tensor) -> None:
        labels = tf.reshape(labels, [-1, 1])
        logits = model(images, training=False)
        update_metrics(eval_metrics, labels, logits, per_example_loss(labels, logits))

    @tf.function
    def run_step(step, images: tf.Tensor, labels: tf.Tensor) -> None:
        strategy.run(step, args=(images, labels))

    # Training steps return to Python between batches so that callbacks see each one
    # (the progress line), as in `fit`; the evaluation pass is one graph.
    @tf.function
    def run_epoch(dataset, step) -> None:
        for images, labels in dataset:
            strategy.run(step, args=(images, labels))

    train_batches = strategy.experimental_distribute_dataset(train_data)
    eval_batches = strategy.experimental_distribute_dataset(eval_data)
    callback_list = keras.callbacks.CallbackList(
        callbacks, add_history=True, model=model, epochs=epochs, steps=_steps(train_data), verbose=0
    )
    model.stop_training = False
    callback_list.on_train_begin()
    logs: dict[str, float] = {}
    for epoch in range(initial_epoch, epochs):
        for metric in train_metrics + eval_metrics:
            metric.reset_state()
        callback_list.on_epoch_begin(epoch)
        for batch, (images, labels) in enumerate(train_batches):
            callback_list.on_train_batch_begin(batch)
            run_step(train_step, images, labels)
            callback_list.on_train_batch_end(batch)
        logs = {m.name: float(m.result()) for m in train_metrics}
        callback_list.on_test_begin()
        run_epoch(eval_batches, eval_step)
        eval_logs = {m.name: float(m.result()) for m in eval_metrics}
        callback_list.on_test_end(eval_logs)
        logs.update({f"val_{name}": value for name, value in eval_logs.items()})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return model.history


def _steps(dataset: tf.data.Dataset) -> int | None:
    """The batches of an epoch, as `fit` puts them in the callbacks' params (None: unknown)."""
    batches = int(dataset.cardinality())
    return batches if batches >= 0 else None
