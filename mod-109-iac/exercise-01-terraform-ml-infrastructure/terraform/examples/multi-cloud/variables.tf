variable "name" {
  type        = string
  description = "Name of the platform (prefixes resources on every cloud; lower case letters and digits)."
  default     = "mlplat"
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,11}$", var.name))
    error_message = "name must be 3-12 lower case letters and digits, starting with a letter."
  }
}

variable "aws_region" {
  type        = string
  description = "AWS region of the serving and training stack."
  default     = "us-east-1"
}

variable "gcp_project_id" {
  type        = string
  description = "GCP project of the research workspace."
}

variable "gcp_region" {
  type        = string
  description = "GCP region of the research workspace."
  default     = "europe-west4"
}

variable "azure_location" {
  type        = string
  description = "Azure region of the Azure ML workspace."
  default     = "westeurope"
}

variable "model_image" {
  type        = string
  description = "Inference image URI for SageMaker."
  default     = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3-cpu-py311"
}

variable "deployer_ip_ranges" {
  type        = list(string)
  description = "Egress ranges of the machine running terraform (Azure Key Vault firewall)."
  default     = []
}

variable "cost_center" {
  type        = string
  description = "Cost center every resource is tagged (labelled) with."
  default     = "ml-platform"
}
