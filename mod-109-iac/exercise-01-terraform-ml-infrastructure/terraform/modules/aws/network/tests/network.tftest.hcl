# Plans and mocked applies: no AWS account, no emulator.
mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
}

variables {
  name               = "ml-test"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  tags               = { cost-center = "ml", owner = "tests" }
}

run "one_private_subnet_per_zone" {
  command = plan
  assert {
    condition     = length(aws_subnet.private) == 3
    error_message = "expected one private subnet per availability zone"
  }
  assert {
    condition     = aws_subnet.private[1].cidr_block == "10.40.16.0/20"
    error_message = "subnets must be carved as /20s out of the VPC CIDR"
  }
}

run "s3_endpoint_in_region" {
  command = apply
  assert {
    condition     = aws_vpc_endpoint.s3[0].service_name == "com.amazonaws.eu-west-1.s3"
    error_message = "the S3 endpoint must use the current region"
  }
  assert {
    condition     = output.s3_endpoint_id != null
    error_message = "s3_endpoint_id must be set when the endpoint is enabled"
  }
}

run "s3_endpoint_optional" {
  command = plan
  variables {
    enable_s3_endpoint = false
  }
  assert {
    condition     = length(aws_vpc_endpoint.s3) == 0
    error_message = "no endpoint when enable_s3_endpoint = false"
  }
}

run "rejects_bad_cidr" {
  command = plan
  variables {
    cidr_block = "10.0.0.0/8"
  }
  expect_failures = [var.cidr_block]
}

run "requires_cost_center_tag" {
  command = plan
  variables {
    tags = { owner = "tests" }
  }
  expect_failures = [var.tags]
}
