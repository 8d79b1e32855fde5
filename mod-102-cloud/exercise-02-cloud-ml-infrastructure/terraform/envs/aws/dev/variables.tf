# Same interface as the module (terraform/modules/aws/ml-platform/variables.tf).

variable "name" {
  description = "Platform name, used as the prefix of every resource name."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.name))
    error_message = "name must be 3-21 characters of lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "environment" {
  description = "dev, staging or prod: decides size, high availability and deletion protection."
  type        = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of dev, staging, prod."
  }
}

variable "project" {
  description = "Scope that owns the resources: the GCP project id, the Azure resource-group prefix; on AWS an extra tag (the account comes from the credentials)."
  type        = string
}

variable "region" {
  description = "Cloud region (us-east-1, europe-west4, westeurope...)."
  type        = string
}

variable "network_cidr" {
  description = "CIDR of the platform network, /16 to /22: split into public and private subnets in two zones."
  type        = string
  validation {
    condition     = can(cidrhost(var.network_cidr, 0)) && try(tonumber(split("/", var.network_cidr)[1]) >= 16 && tonumber(split("/", var.network_cidr)[1]) <= 22, false)
    error_message = "network_cidr must be a valid IPv4 CIDR between /16 and /22, e.g. 10.20.0.0/16."
  }
}

variable "serving_instance_type" {
  description = "Instance type of the online endpoint (SageMaker ml.* types on AWS)."
  type        = string
  validation {
    condition     = can(regex("^ml\\.(t2|t3|m5|m6i|c5|c6i|g4dn|g5|p3)\\.(medium|large|xlarge|[0-9]+xlarge)$", var.serving_instance_type))
    error_message = "serving_instance_type must be a SageMaker hosting type such as ml.m5.large (ml.<family>.<size>)."
  }
}

variable "serving_instance_count" {
  description = "Initial instances behind the endpoint; high availability needs at least 2."
  type        = number
  default     = 1
  validation {
    condition     = var.serving_instance_count >= 1 && var.serving_instance_count <= 10
    error_message = "serving_instance_count must be between 1 and 10."
  }
}

variable "notebook_instance_type" {
  description = "Instance type of the managed notebook (SageMaker ml.t3.medium...)."
  type        = string
  validation {
    condition     = can(regex("^ml\\.(t2|t3|m5|c5)\\.(medium|large|xlarge|[0-9]+xlarge)$", var.notebook_instance_type))
    error_message = "notebook_instance_type must be a SageMaker notebook type such as ml.t3.medium."
  }
}

variable "model_image" {
  description = "Container image of the model server (an ECR URI on AWS)."
  type        = string
}

variable "high_availability" {
  description = "Two NAT gateways, endpoint autoscaling across zones, at least two serving instances."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse to delete non-empty buckets and registries (force_destroy off), longest key deletion window."
  type        = bool
  default     = true
}

variable "enable_budget" {
  description = "Create a monthly cost budget with alerts at 80% and 100%."
  type        = bool
  default     = true
}

variable "monthly_budget" {
  description = "Monthly budget in USD."
  type        = number
  default     = 500
}

variable "alert_email" {
  description = "Address subscribed to alarms and budget alerts (empty: none)."
  type        = string
  default     = ""
}

variable "labels" {
  description = "Extra tags/labels for every resource."
  type        = map(string)
  default     = {}
}
