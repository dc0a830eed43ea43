//! Unit tests of the checkpoint reader and writer.

use super::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet_core::net::{Network, TwoLayerNetConfig};

fn net() -> TwoLayerNet<f32> {
    TwoLayerNetConfig {
        hidden_size: 5,
        activation: Activation::Relu,
        weight_init_std: 0.1,
    }
    .init(12, 3, &mut ChaCha8Rng::seed_from_u64(9))
    .unwrap()
}

#[test]
fn save_then_load_gives_the_same_predictions_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let net = net();
    save(&net, two_layer_metadata(&net), &path).unwrap();
    let loaded: TwoLayerNet<f32> = Checkpoint::load(&path).unwrap().two_layer_net().unwrap();
    let x = scratchnet_core::init::randn::<f32>(&mut ChaCha8Rng::seed_from_u64(1), 7, 12, 1.0);
    assert_eq!(net.predict(&x), loaded.predict(&x));
    assert_eq!(loaded.activation_kind(), Activation::Relu);
}

#[test]
fn bad_files_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"definitely not safetensors").unwrap();
    let err = Checkpoint::load(&junk).err().unwrap().to_string();
    assert!(
        err.contains("junk.safetensors") && err.contains("not a safetensors"),
        "{err}"
    );

    let truncated = dir.path().join("truncated.safetensors");
    let net = net();
    save(&net, two_layer_metadata(&net), &truncated).unwrap();
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    assert!(Checkpoint::load(&truncated).is_err());

    let foreign = dir.path().join("foreign.safetensors");
    let data = vec![0u8; 8];
    let view = TensorView::new(Dtype::F32, vec![2], &data).unwrap();
    std::fs::write(
        &foreign,
        safetensors::serialize([("W1", view)], None).unwrap(),
    )
    .unwrap();
    let err = Checkpoint::load(&foreign).err().unwrap().to_string();
    assert!(err.contains("not a scratchnet checkpoint"), "{err}");
}

#[test]
fn every_flipped_bit_is_caught_and_a_file_without_checksum_is_read_unsealed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.safetensors");
    let net: TwoLayerNet<f32> = TwoLayerNetConfig {
        hidden_size: 2,
        activation: Activation::Sigmoid,
        weight_init_std: 0.1,
    }
    .init(3, 2, &mut ChaCha8Rng::seed_from_u64(1))
    .unwrap();
    save(&net, two_layer_metadata(&net), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let loaded = Checkpoint::from_bytes(&path, &bytes).unwrap();
    assert!(loaded.is_sealed());
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[i] ^= 1 << bit;
            assert!(
                Checkpoint::from_bytes(&path, &flipped).is_err(),
                "byte {i}, bit {bit} flipped went unnoticed"
            );
        }
    }
    // Without its checksum the file is still read, and says so.
    let mut metadata = loaded.metadata.clone();
    metadata.remove(SEAL_KEY);
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let old = safetensors::serialize(
        st.tensors(),
        Some(HashMap::from([(
            META_KEY.to_string(),
            serde_json::to_string(&metadata).unwrap(),
        )])),
    )
    .unwrap();
    let unsealed = Checkpoint::from_bytes(&path, &old).unwrap();
    assert!(!unsealed.is_sealed());
    assert_eq!(unsealed.two_layer_net::<f32>().unwrap().params().len(), 4);
}

#[test]
fn a_multi_layer_net_with_batchnorm_round_trips_with_its_running_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.safetensors");
    let config = MultiLayerNetConfig {
        hidden_size_list: vec![6, 5],
        use_batchnorm: true,
        use_dropout: true,
        dropout_ratio: 0.25,
        weight_decay_lambda: 0.01,
        weight_init: scratchnet_core::init::WeightInit::Std(0.3),
        ..MultiLayerNetConfig::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut net = MultiLayerNet::<f32>::new(12, 3, &config, &mut rng).unwrap();
    let x = scratchnet_core::init::randn::<f32>(&mut rng, 7, 12, 1.0);
    net.loss(
        &x,
        scratchnet_core::layers::Targets::Labels(&[0, 1, 2, 0, 1, 2, 0]),
    );
    save(&net, net.metadata(), &path).unwrap();
    let meta = &Checkpoint::load(&path).unwrap().metadata;
    assert_eq!(meta["network"], "MultiLayerNet");
    assert_eq!(meta["hidden_size_list"], "[6,5]");
    assert_eq!(meta["activation"], "relu");
    assert_eq!(meta["use_batchnorm"], "true");
    let loaded: MultiLayerNet<f32> = Checkpoint::load(&path).unwrap().multi_layer_net().unwrap();
    assert_eq!(loaded.config(), &config);
    assert_eq!(loaded.buffers().len(), 4);
    assert_eq!(net.predict(&x), loaded.predict(&x));
    let boxed = Checkpoint::load(&path).unwrap().network::<f32>().unwrap();
    assert_eq!(net.predict(&x), boxed.predict(&x));
    let two = Checkpoint::load(&path).unwrap().two_layer_net::<f32>();
    assert!(two.is_err(), "a deep net is not a TwoLayerNet");
}

/// A ConvNet saved with `metadata` changed by `edit` (the file sealed again), then loaded.
fn conv_net_with(edit: impl FnOnce(&mut Metadata)) -> Result<ConvNet<f32>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let config: ConvNetConfig = "conv:3x5,pool:2,fc:7,dropout:0.1".parse().unwrap();
    let net = config
        .init::<f32>(784, 10, &mut ChaCha8Rng::seed_from_u64(4))
        .unwrap();
    let mut metadata = net.metadata();
    edit(&mut metadata);
    save(&net, metadata, &path).unwrap();
    let loaded = Checkpoint::load(&path)?.conv_net();
    if let Ok(loaded) = &loaded {
        let x = scratchnet_core::init::randn::<f32>(&mut ChaCha8Rng::seed_from_u64(1), 3, 784, 1.0);
        assert_eq!(net.predict(&x), loaded.predict(&x));
    }
    loaded
}

#[test]
fn a_conv_net_loads_bit_for_bit_and_lying_metadata_is_refused_before_it_is_built() {
    let loaded = conv_net_with(|_| {}).unwrap();
    assert_eq!(
        loaded.config().to_string(),
        "conv:3x5,pool:2,fc:7,dropout:0.1"
    );
    assert_eq!(
        spec_metadata(&NetworkSpec::ConvNet(loaded.config().clone())),
        loaded.metadata()
    );
    for (key, value, named) in [
        // More filters than W1 holds: refused by W1's shape, nothing allocated for them.
        (
            "layers",
            "conv:300000x5,pool:2,fc:7",
            "tensor W1 has shape [3, 1, 5, 5]",
        ),
        ("layers", "conv:3x5,pool:2,fc:7,fc:5", "no tensor named W4"),
        ("layers", "conv:3x3,pool:2,fc:7", "tensor W1"),
        ("layers", "conv:3y5", "conv:3y5"),
        ("input_shape", "[1,1000000,1000000]", "tensor W2"),
        ("input_shape", "[1,2,2]", "conv1"),
    ] {
        let err = conv_net_with(|m| {
            m.insert(key.into(), value.into());
        })
        .err()
        .unwrap_or_else(|| panic!("{key} = {value} was accepted"))
        .to_string();
        assert!(err.contains(named), "{key} = {value}: {err}");
    }
}
