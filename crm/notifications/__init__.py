"""Group robots of DingTalk, WeCom and Feishu: pure payload builders, signers and answer readers."""
