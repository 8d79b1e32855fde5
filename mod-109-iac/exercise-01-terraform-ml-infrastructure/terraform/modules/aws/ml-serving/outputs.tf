output "endpoint_name" {
  description = "Name of the SageMaker endpoint (what clients invoke)."
  value       = aws_sagemaker_endpoint.this.name
}

output "endpoint_arn" {
  description = "ARN of the SageMaker endpoint."
  value       = aws_sagemaker_endpoint.this.arn
}

output "alarm_names" {
  description = "Names of the latency and 5XX alarms."
  value       = [aws_cloudwatch_metric_alarm.latency.alarm_name, aws_cloudwatch_metric_alarm.errors.alarm_name]
}
