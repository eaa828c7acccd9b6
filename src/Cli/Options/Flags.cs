namespace Hep.Cli.Options;

/// <summary>
/// Every flag the CLI accepts: the users' weaver-style flags verbatim (seed 001), then the additions a
/// training tool needs. The table drives parsing and --help.
/// </summary>
public static class Flags
{
    public static IReadOnlyList<FlagSpec> All { get; } =
    [
        new("batch_size", FlagKind.Int, "512", "jets (events) per optimisation step"),
        new("learning_rate", FlagKind.Double, "0.001", "initial learning rate"),
        new("epochs", FlagKind.Int, "3", "passes over the training set"),
        new("momentum", FlagKind.Double, "0.9", "SGD momentum (AdamW and Ranger use their own β1: 0.9 and 0.95)"),
        new("weight_decay", FlagKind.Double, "5e-4", "L2 weight decay (decoupled for AdamW)"),
        new("arch", FlagKind.String, "PN", "model: PN | PN-Lite | ParT | ParT-plain | PFN | MLP | HeteroNet"),
        new("num_heads", FlagKind.Int, "8", "ParT attention heads"),
        new("num_layers", FlagKind.Int, "8", "ParT particle-attention blocks"),
        new("EdgeConv_config", FlagKind.Json, "[[16,[64,64,64]],[16,[128,128,128]],[16,[256,256,256]]]", "PN EdgeConv blocks as [[k,[c1,c2,c3]],…]"),
        new("fcs", FlagKind.Json, "[[256,0.1]]", "PN classifier head as [[units,dropout],…]"),
        new("data_root", FlagKind.String, null, "input folder (ROOT, .npy or CSV); omitted = built-in synthetic jets"),
        new("exp_dir", FlagKind.String, "runs/exp", "where checkpoints (best, last) and metrics are written"),
        new("mode", FlagKind.String, "train", "train (train, then infer on the test set) | infer (inference only)"),
        new("load_model", FlagKind.String, null, "checkpoint for --mode infer (ours or a weaver .pt)"),
        new("predict_output", FlagKind.String, null, "folder for predictions.root (default: exp_dir/predict_output)"),
        new("Processing_conditions", FlagKind.Json, null, "input variables as [{\"name\",\"subtract\",\"multiply\",\"min\",\"max\"},…]; the first two are the kNN coordinates"),
        new("labels", FlagKind.Json, null, "class label branches, e.g. [\"label_s\",\"label_b\"]"),
        new("Observables", FlagKind.Json, "[]", "branches copied unchanged into the predictions"),
        new("fixed_length", FlagKind.Int, "100", "particles per jet after padding/truncation"),
        new("labelSmoothing", FlagKind.Double, "0", "label smoothing ε for the cross-entropy"),
        new("flip_rate", FlagKind.Double, "0", "probability of mirroring a training jet (η → −η and φ → −φ) as augmentation; 0 = no-op"),
        new("gpu", FlagKind.Int, null, "CUDA device ordinal; asking for an absent device is an error"),
        new("device", FlagKind.String, "cpu", "cpu | cuda | opencl | ilgpu-cpu (explicit backend choice)"),
        new("optimizer", FlagKind.String, "sgd", "sgd (momentum) | adamw | ranger"),
        new("lr_schedule", FlagKind.String, "flat+decay", "constant | step | cosine | flat+decay"),
        new("seed", FlagKind.Int, "42", "random seed (initialisation, shuffling, dropout)"),
        new("val_fraction", FlagKind.Double, "0.2", "fraction of the training files' jets held out for validation"),
        new("synthetic_jets", FlagKind.Int, "4000", "jets generated when --data_root is omitted"),
        new("resume", FlagKind.Switch, null, "continue from exp_dir/last.ckpt (weights, optimiser, epoch); exactly reproduces the uninterrupted run"),
        new("in_memory_jets", FlagKind.Int, "1000000", "ROOT data up to this many jets is loaded into memory; larger data streams from disk, shuffled in blocks of this size"),
        new("reject_nonfinite", FlagKind.Switch, null, "stop on NaN/infinite particle values instead of replacing them by 0 (weaver's behaviour)"),
        new("predict_format", FlagKind.String, "root", "root | csv"),
        new("help", FlagKind.Switch, null, "show this help"),
    ];

    public static FlagSpec? Find(string name) => All.FirstOrDefault(f => f.Name == name);
}
