# Module logic with a mocked AWS provider: no credentials, no network, a few seconds.
# Mocks return random strings, so ARN-shaped defaults are given wherever an ARN feeds an
# argument the provider checks, and data sources (zones, policy documents) are mocked.

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["us-east-1a", "us-east-1b", "us-east-1c"]
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mock"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
      key_id = "00000000-0000-0000-0000-000000000000"
    }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::mock-bucket"
    }
  }
  mock_resource "aws_ecr_repository" {
    defaults = {
      arn            = "arn:aws:ecr:us-east-1:123456789012:repository/mock"
      repository_url = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mock"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:123456789012:mock"
    }
  }
}

variables {
  name                   = "mlp"
  environment            = "dev"
  project                = "acme"
  region                 = "us-east-1"
  network_cidr           = "10.10.0.0/16"
  serving_instance_type  = "ml.t2.medium"
  notebook_instance_type = "ml.t3.medium"
  model_image            = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlp/model-server:1"
  deletion_protection    = false
}

run "dev_is_small_and_disposable" {
  command = plan

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_appautoscaling_target.endpoint) == 0
    error_message = "dev: one NAT gateway, no endpoint autoscaling"
  }
  assert {
    condition     = alltrue([for b in aws_s3_bucket.this : b.force_destroy]) && aws_kms_key.this.deletion_window_in_days == 7
    error_message = "dev without deletion protection: buckets can be emptied, short key window"
  }
  assert {
    condition     = length(distinct(aws_subnet.private[*].availability_zone)) == 2
    error_message = "private subnets must span two zones"
  }
  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "the key must rotate"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].enable_capture && aws_sagemaker_endpoint_configuration.this.data_capture_config[0].initial_sampling_percentage == 100
    error_message = "data capture on, everything sampled outside prod"
  }
  assert {
    condition     = length(aws_budgets_budget.monthly) == 1 && length(aws_sns_topic_subscription.email) == 0
    error_message = "budget on by default; no email subscription without an address"
  }
}

run "prod_is_highly_available_and_protected" {
  command = apply

  variables {
    environment            = "prod"
    serving_instance_type  = "ml.m5.xlarge"
    serving_instance_count = 2
    high_availability      = true
    deletion_protection    = true
    alert_email            = "oncall@example.com"
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 2 && aws_route_table.private[1].route != aws_route_table.private[0].route
    error_message = "prod: a NAT gateway per zone, each private route table on its own"
  }
  assert {
    condition     = aws_appautoscaling_target.endpoint[0].min_capacity == 2 && aws_appautoscaling_target.endpoint[0].max_capacity == 6
    error_message = "prod: endpoint autoscaling between 2 and 6 instances"
  }
  assert {
    condition     = !anytrue([for b in aws_s3_bucket.this : b.force_destroy]) && !aws_ecr_repository.models.force_delete && aws_kms_key.this.deletion_window_in_days == 30
    error_message = "prod: deletion protection on buckets, registry and key"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].initial_sampling_percentage == 20
    error_message = "prod samples 20% of requests"
  }
  assert {
    condition     = output.identities["serving"] == "arn:aws:iam::123456789012:role/mock" && length(aws_sns_topic_subscription.email) == 1
    error_message = "outputs expose the role ARNs; the on-call address is subscribed"
  }
}

run "no_wildcard_actions" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for doc in [data.aws_iam_policy_document.training, data.aws_iam_policy_document.serving, data.aws_iam_policy_document.ci] :
      [for s in doc.statement : [for a in s.actions : !strcontains(a, "*")]]
    ]))
    error_message = "IAM statements must name their actions"
  }
}

run "budget_can_be_left_out" {
  command = plan

  variables {
    enable_budget = false
  }

  assert {
    condition     = length(aws_budgets_budget.monthly) == 0
    error_message = "enable_budget = false creates no budget"
  }
}

run "invalid_cidr_is_rejected" {
  command = plan

  variables {
    network_cidr = "10.0.0.0/33"
  }

  expect_failures = [var.network_cidr]
}

run "invalid_instance_type_is_rejected" {
  command = plan

  variables {
    serving_instance_type = "m5.large"
  }

  expect_failures = [var.serving_instance_type]
}
