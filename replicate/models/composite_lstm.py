"""The Composite LSTM of Srivastava et al. 2015 (mansimov2015's [14]), as its public code builds it.

mansimov2015's Table 2 fuses its NWI 3D net with this model: an LSTM over per-frame features of
the ImageNet net (fc6, 4096-d), pretrained without labels as the encoder of a *composite* model,
whose final state starts two decoders: one reconstructs the input sequence in reverse order, the
other predicts the frames that follow. The encoder's weights then initialise a classifier LSTM
with a softmax at every step; a sequence's prediction is the mean of its per-step softmax.

From the authors' code (mansimov/unsupervised-videos: ``lstm.py``, ``lstm_combo.py``,
``lstm_classifier.py`` and ``models/*.pbtxt``), kept here:

* one layer of 2048 units with peephole connections (``w_diag``: each gate also sees the cell);
  PyTorch's ``nn.LSTM`` has none, hence :class:`PeepholeLSTM`;
* the decoders start from a copy of the encoder's final cell and hidden state and are
  *conditional* (``dec_conditional: true``): at step t > 0 the reconstruction decoder is fed the
  true frame it reconstructed at t - 1 (``v[T - t]``), the future predictor the true frame
  ``v[T + t - 1]``; at t = 0 both get no input;
* squared error per frame, ``0.5 ||output - target||^2``, averaged over sequences and steps
  (reconstruction and future separately, summed);
* the classifier: the same LSTM (input 4096 -> 2048) with a 2048 -> classes output at every
  step, trained with cross-entropy at every step;
* the initialisation of the pbtxt files (:meth:`PeepholeLSTM.init_as_code`): weights uniform in
  +-0.01, peepholes in +-0.1, biases 0 (``lstm_combo_1layer_ucf101_patches.pbtxt``); the
  classifier's new output layer Gaussian with sd 0.001 (``lstm_classifier_1layer_ucf101_features.pbtxt``).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

State = tuple[Tensor, Tensor]  # (hidden, cell), each (N, hidden)


class PeepholeLSTM(nn.Module):
    """One LSTM layer with peephole connections, stepped by hand (sequences are short: 16 frames).

    Gates, as in the authors' ``lstm.py``: ``i = s(W_i x + U_i h + p_i * c)``, ``f`` likewise,
    ``g = tanh(W_g x + U_g h)``, ``c' = f * c + i * g``, ``o = s(W_o x + U_o h + p_o * c')``,
    ``h' = o * tanh(c')``. ``input_dim = 0`` makes an LSTM without input (an unconditioned
    decoder); ``output_dim`` adds a linear read-out of ``h'`` at every step.
    """

    def __init__(self, input_dim: int, hidden: int, output_dim: int | None = None):
        super().__init__()
        self.hidden = hidden
        self.input = nn.Linear(input_dim, 4 * hidden, bias=False) if input_dim else None
        self.recurrent = nn.Linear(hidden, 4 * hidden, bias=True)
        self.peephole = nn.Parameter(torch.zeros(3, hidden))  # input, forget, output gates
        self.output = nn.Linear(hidden, output_dim) if output_dim else None
        self.init_as_code()

    def init_as_code(self, weight: float = 0.01, peephole: float = 0.1) -> None:
        """The code's init (``util.py: Param``, ``UNIFORM``: ``U(-scale, scale)``): input, recurrent
        and output weights uniform in +-``weight``, peepholes in +-``peephole``, biases 0."""
        with torch.no_grad():
            for layer in (self.input, self.recurrent, self.output):
                if layer is not None:
                    layer.weight.uniform_(-weight, weight)
                    if layer.bias is not None:
                        layer.bias.zero_()
            self.peephole.uniform_(-peephole, peephole)

    def zero_state(self, n: int, like: Tensor) -> State:
        z = like.new_zeros(n, self.hidden)
        return z, z

    def step(self, x: Tensor | None, state: State) -> tuple[State, Tensor | None]:
        h, c = state
        z = self.recurrent(h)
        if x is not None:
            if self.input is None:
                raise ValueError("this LSTM has no input weights (input_dim 0): step it with x=None")
            z = z + self.input(x)
        i, f, g, o = z.chunk(4, dim=1)
        i = torch.sigmoid(i + self.peephole[0] * c)
        f = torch.sigmoid(f + self.peephole[1] * c)
        c = f * c + i * torch.tanh(g)
        o = torch.sigmoid(o + self.peephole[2] * c)
        h = o * torch.tanh(c)
        return (h, c), (self.output(h) if self.output is not None else None)

    def forward(self, seq: Tensor, state: State | None = None) -> tuple[Tensor | None, State]:
        """Run over ``seq`` (N, T, D): the stacked read-outs (N, T, output) or None, and the final state."""
        state = state if state is not None else self.zero_state(seq.shape[0], seq)
        outputs = []
        for t in range(seq.shape[1]):
            state, out = self.step(seq[:, t], state)
            outputs.append(out)
        return (torch.stack(outputs, 1) if self.output is not None else None), state


class CompositeLSTM(nn.Module):
    """Encoder + conditional reconstruction decoder + conditional future predictor.

    ``forward(seq)`` takes ``encode + future`` frames of features (N, T, D): the encoder reads the
    first ``encode``; returns the reconstruction of those in reverse order (N, ``reconstruct``, D)
    and the prediction of the next ``future`` (N, ``future``, D). :meth:`loss` compares them with
    the true frames (:meth:`targets`).
    """

    def __init__(self, feature_dim: int = 4096, hidden: int = 2048, reconstruct: int = 10, future: int = 10,
                 conditional: bool = True):
        super().__init__()
        if reconstruct < 1 and future < 1:
            raise ValueError("a composite model needs a reconstruction or a future decoder (reconstruct or future >= 1)")
        self.reconstruct, self.future, self.conditional = reconstruct, future, conditional
        self.encoder = PeepholeLSTM(feature_dim, hidden)
        decoder_input = feature_dim if conditional else 0
        self.decoder = PeepholeLSTM(decoder_input, hidden, feature_dim) if reconstruct else None
        self.predictor = PeepholeLSTM(decoder_input, hidden, feature_dim) if future else None

    def _decode(self, lstm: PeepholeLSTM, state: State, inputs: list[Tensor | None]) -> Tensor:
        outputs = []
        for x in inputs:
            state, out = lstm.step(x if self.conditional else None, state)
            outputs.append(out)
        return torch.stack(outputs, 1)

    def forward(self, seq: Tensor) -> tuple[Tensor | None, Tensor | None]:
        encode = seq.shape[1] - self.future
        if encode < max(1, self.reconstruct):
            raise ValueError(f"a sequence of {seq.shape[1]} frames leaves {encode} to encode, fewer than the "
                             f"{self.reconstruct} to reconstruct (and >= 1 needed)")
        _, state = self.encoder(seq[:, :encode])
        recon = future = None
        if self.decoder is not None:  # step t > 0 is fed the true frame reconstructed at t - 1
            recon = self._decode(self.decoder, state, [None] + [seq[:, encode - t] for t in range(1, self.reconstruct)])
        if self.predictor is not None:  # step t > 0 is fed the true frame predicted at t - 1
            future = self._decode(self.predictor, state, [None] + [seq[:, encode + t - 1] for t in range(1, self.future)])
        return recon, future

    def targets(self, seq: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """What :meth:`forward` should output: the last ``reconstruct`` encoded frames, newest first,
        and the ``future`` frames after them."""
        encode = seq.shape[1] - self.future
        recon = seq[:, encode - self.reconstruct:encode].flip(1) if self.reconstruct else None
        future = seq[:, encode:] if self.future else None
        return recon, future

    def loss(self, seq: Tensor) -> dict[str, Tensor]:
        """``0.5 ||output - target||^2`` per frame, averaged over sequences and steps, per decoder and summed."""
        out = {}
        for name, pred, target in zip(("reconstruction", "future"), self(seq), self.targets(seq)):
            if pred is not None:
                out[name] = 0.5 * (pred - target).pow(2).sum(-1).mean()
        out["loss"] = sum(out.values())
        return out


class LSTMClassifier(nn.Module):
    """The supervised model: a :class:`PeepholeLSTM` over frame features with class scores at every step.

    ``forward(seq)`` gives per-step logits (N, T, classes); :meth:`scores` the sequence's
    prediction, the mean of the per-step softmax (``lstm_classifier.py: GetPrediction``).
    :meth:`from_encoder` starts it from a composite model's encoder (the unsupervised pretraining).
    """

    def __init__(self, feature_dim: int = 4096, hidden: int = 2048, num_classes: int = 101):
        super().__init__()
        self.lstm = PeepholeLSTM(feature_dim, hidden, num_classes)

    def forward(self, seq: Tensor) -> Tensor:
        logits, _ = self.lstm(seq)
        return logits

    def scores(self, seq: Tensor) -> Tensor:
        return self(seq).softmax(-1).mean(1)

    def loss(self, seq: Tensor, labels: Tensor) -> Tensor:
        """Cross-entropy at every step against the sequence's label."""
        logits = self(seq)
        return nn.functional.cross_entropy(logits.flatten(0, 1), labels.repeat_interleave(logits.shape[1]))

    @classmethod
    def from_encoder(cls, composite: CompositeLSTM, num_classes: int) -> LSTMClassifier:
        encoder = composite.encoder
        model = cls(encoder.input.in_features, encoder.hidden, num_classes)
        state = {k: v for k, v in encoder.state_dict().items()}
        missing, unexpected = model.lstm.load_state_dict(state, strict=False)
        if unexpected or [k for k in missing if not k.startswith("output.")]:
            raise RuntimeError(f"encoder does not fit the classifier: missing {missing}, unexpected {unexpected}")
        with torch.no_grad():  # the classifier pbtxt: w_output GAUSSIAN 0.001, b_output 0
            model.lstm.output.weight.normal_(0.0, 0.001)
            model.lstm.output.bias.zero_()
        return model
