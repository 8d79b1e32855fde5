# Every run is a plan: the assertions read only values known at plan time, so a mocked apply
# would add nothing but a second provider walk and a mocked destroy at the end. The benchmark
# runs the same file against moto with the first run applied for real (make bench).
mock_provider "aws" {}

variables {
  name               = "churn-model"
  model_image        = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ml/serving:1.0"
  model_data_url     = "s3://ml-artifacts/churn/model.tar.gz"
  execution_role_arn = "arn:aws:iam::123456789012:role/serving"
  subnet_ids         = ["subnet-a", "subnet-b"]
  security_group_ids = ["sg-1"]
  capture_s3_uri     = "s3://ml-artifacts/capture"
  kms_key_arn        = "arn:aws:kms:us-east-1:123456789012:key/k"
  tags               = { cost-center = "ml" }
}

run "endpoint_serves_the_model" {
  command = plan
  assert {
    condition     = aws_sagemaker_endpoint.this.endpoint_config_name == aws_sagemaker_endpoint_configuration.this.name
    error_message = "the endpoint must use the module's endpoint configuration"
  }
  assert {
    condition     = one(aws_sagemaker_endpoint_configuration.this.production_variants).model_name == "churn-model"
    error_message = "the primary variant must serve the module's model"
  }
  assert {
    condition     = output.endpoint_name == "churn-model"
    error_message = "endpoint_name output must be the endpoint's name"
  }
}

run "captures_requests_encrypted" {
  command = plan
  assert {
    condition     = one(aws_sagemaker_endpoint_configuration.this.data_capture_config).enable_capture
    error_message = "data capture must be on"
  }
  assert {
    condition     = one(aws_sagemaker_endpoint_configuration.this.data_capture_config).kms_key_id == var.kms_key_arn
    error_message = "captured data must be encrypted with the module's key"
  }
}

run "latency_alarm_in_microseconds" {
  command = plan
  variables {
    latency_threshold_ms = 250
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.latency.threshold == 250000
    error_message = "ModelLatency is in microseconds: 250 ms is 250000"
  }
}

run "autoscaling_only_when_enabled" {
  command = plan
  variables {
    enable_autoscaling = true
    instance_count     = 2
    max_instance_count = 6
  }
  assert {
    condition     = aws_appautoscaling_target.this[0].min_capacity == 2 && aws_appautoscaling_target.this[0].max_capacity == 6
    error_message = "autoscaling bounds must follow instance_count and max_instance_count"
  }
}

run "rejects_non_sagemaker_instance_type" {
  command = plan
  variables {
    instance_type = "g5.xlarge"
  }
  expect_failures = [var.instance_type]
}
