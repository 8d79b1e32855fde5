mock_provider "aws" {}

variables {
  name               = "gpu-workers"
  ami_id             = "ami-0123456789abcdef0"
  instance_types     = ["g5.xlarge", "g6.xlarge"]
  subnet_ids         = ["subnet-a"]
  security_group_ids = ["sg-1"]
  tags               = { cost-center = "ml" }
}

run "spot_by_default_with_overrides" {
  command = plan
  assert {
    condition     = one(one(aws_autoscaling_group.this.mixed_instances_policy).instances_distribution).on_demand_percentage_above_base_capacity == 0
    error_message = "above the base capacity the group must be all spot by default"
  }
  assert {
    condition     = length(one(one(aws_autoscaling_group.this.mixed_instances_policy).launch_template).override) == 2
    error_message = "one override per instance type"
  }
}

run "on_demand_mix" {
  command = plan
  variables {
    on_demand_base_capacity = 1
    on_demand_percentage    = 50
  }
  assert {
    condition     = one(one(aws_autoscaling_group.this.mixed_instances_policy).instances_distribution).on_demand_base_capacity == 1
    error_message = "on_demand_base_capacity must reach the group"
  }
}

run "imdsv2_and_encrypted_root" {
  command = apply
  assert {
    condition     = one(aws_launch_template.this.metadata_options).http_tokens == "required"
    error_message = "IMDSv2 must be required"
  }
  assert {
    condition     = one(one(aws_launch_template.this.block_device_mappings).ebs).encrypted == "true"
    error_message = "the root volume must be encrypted"
  }
}

run "rejects_non_gpu_types" {
  command = plan
  variables {
    instance_types = ["m5.large"]
  }
  expect_failures = [var.instance_types]
}
