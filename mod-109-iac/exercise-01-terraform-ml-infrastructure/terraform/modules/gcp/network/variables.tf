variable "project_id" {
  type        = string
  description = "GCP project that owns the network."
}

variable "name" {
  type        = string
  description = "Name of the VPC network and prefix of its parts."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be 3-41 lower case letters, digits or dashes, starting with a letter."
  }
}

variable "region" {
  type        = string
  description = "Region of the subnet."
}

variable "cidr_block" {
  type        = string
  description = "Primary IPv4 range of the subnet."
  default     = "10.50.0.0/20"
  validation {
    condition     = can(cidrhost(var.cidr_block, 0))
    error_message = "cidr_block must be a valid IPv4 CIDR."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels (GCP's tags); must include cost-center."
  validation {
    condition     = contains(keys(var.labels), "cost-center")
    error_message = "labels must include a cost-center key."
  }
}
